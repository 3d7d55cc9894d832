package api

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/telemetry"
)

// startPublishSpan starts the server span of a publish, continuing the
// producer's W3C traceparent header when it sent a valid one (else a new
// trace). end records the handler's error. With no tracer (tracing off)
// it returns the request's context and does nothing.
func (s *Server) startPublishSpan(c *fiber.Ctx) (ctx context.Context, end func(error)) {
	ctx = c.UserContext()
	if s.tracer == nil {
		return ctx, endNothing
	}
	ctx = telemetry.WithRemoteParent(ctx, c.Get(telemetry.HeaderTraceparent))
	// The span outlives the request: what it keeps is copied out of
	// fasthttp's buffers, which the connection's next request reuses.
	method := strings.Clone(c.Method())
	ctx, span := s.tracer.Start(ctx, method+" "+c.Route().Path, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", c.Route().Path),
			attribute.Int64("hookgate.company_id", ClaimsOf(c).CompanyID)))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		} else {
			span.SetAttributes(attribute.Int("http.response.status_code", c.Response().StatusCode()))
		}
		span.End()
	}
}

func endNothing(error) {}
