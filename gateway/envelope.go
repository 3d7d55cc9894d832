package gateway

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/gateway/webhooks"
)

// apiError is an error that reaches an API client in the spec's envelope:
// {"metadata":{"timestamp","path"},"errors":[{"code","message"}],"result":{}}.
type apiError struct {
	Status  int
	Message string
	Extra   map[string]any // more members of the error item (e.g. a template error's position)
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, msg string) error { return &apiError{Status: status, Message: msg} }

type errorBody struct {
	Metadata map[string]any   `json:"metadata"`
	Errors   []map[string]any `json:"errors"`
	Result   struct{}         `json:"result"`
}

// errorHandler turns every error a handler returns into the envelope. Errors
// we did not make ourselves never leak their text: a person gets a generic
// message and the log gets the detail.
func (g *Gateway) errorHandler(c *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, "internal error"
	var extra map[string]any
	var ae *apiError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
		status, msg, extra = ae.Status, ae.Message, ae.Extra
	case domainStatus(err) != 0:
		status, msg = domainStatus(err), err.Error()
		var qe *ingest.QuotaError
		if errors.As(err, &qe) && qe.Rate {
			c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64(qe.RetryAfter/time.Second), 10))
		}
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
		if status == fiber.StatusRequestEntityTooLarge {
			msg = "request body is larger than the limit of " + itoa(g.cfg.Server.BodyLimit) + " bytes (server.body_limit)"
		}
	default:
		g.log.Error("request failed", "path", c.Path(), "err", err)
	}
	item := map[string]any{"code": status, "message": msg}
	for k, v := range extra {
		item[k] = v
	}
	return c.Status(status).JSON(errorBody{
		Metadata: map[string]any{"timestamp": g.clock.Now().UTC().Format(time.RFC3339Nano), "path": c.Path()},
		Errors:   []map[string]any{item},
	})
}

// domainStatus is the HTTP status of an error of the packages below the
// API, which know no HTTP; 0 for any other error.
func domainStatus(err error) int {
	var (
		pe *ingest.ParseError
		wc *ingest.WrongCompanyError
		ic *ingest.IdempotencyConflictError
		qe *ingest.QuotaError
		ro *webhooks.ReadOnlyError
		wq *webhooks.QuotaError
	)
	switch {
	case errors.Is(err, webhooks.ErrNotFound):
		return fiber.StatusNotFound
	case errors.As(err, &ro):
		return fiber.StatusConflict // edit the HCL block instead
	case errors.Is(err, webhooks.ErrArchived):
		return fiber.StatusUnprocessableEntity // archiving is permanent
	case errors.As(err, &wq):
		return fiber.StatusConflict
	case errors.As(err, &pe):
		return fiber.StatusBadRequest
	case errors.As(err, &wc):
		return fiber.StatusForbidden
	case errors.As(err, &ic):
		return fiber.StatusUnprocessableEntity
	case errors.As(err, &qe) && qe.Rate:
		return fiber.StatusTooManyRequests
	case errors.As(err, &qe):
		return fiber.StatusInsufficientStorage
	}
	return 0
}

// ok writes a success envelope {metadata:{timestamp}, result}.
func (g *Gateway) ok(c *fiber.Ctx, status int, result any) error {
	return c.Status(status).JSON(fiber.Map{
		"metadata": fiber.Map{"timestamp": g.clock.Now().UTC().Format(time.RFC3339Nano)},
		"result":   result,
	})
}
