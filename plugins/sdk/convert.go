package sdk

import (
	"time"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

func requestFromProto(p *sinkpb.DeliverRequest) *Request {
	return &Request{
		ID:      p.GetDeliveryId(),
		Method:  p.GetMethod(),
		URL:     p.GetUrl(),
		Headers: sinkpb.UnpackHeaders(p.GetHeaders()),
		Body:    p.GetBody(),
		Timeout: time.Duration(p.GetTimeoutNs()),

		Traceparent: p.GetTraceparent(),
	}
}

// resultToProto also enforces MaxResponseBody, whatever the sink returned.
func resultToProto(id uint64, r *Result) *sinkpb.DeliverResult {
	body := r.Body
	if len(body) > MaxResponseBody {
		body = body[:MaxResponseBody]
	}
	return &sinkpb.DeliverResult{
		Id:           id,
		Status:       int32(r.Status),
		Headers:      sinkpb.PackHeaders(r.Headers),
		Body:         body,
		BodySize:     max(r.BodySize, int64(len(r.Body))),
		ExternalRef:  r.ExternalRef,
		Error:        r.Error,
		Retryable:    r.Retryable,
		RetryAfterNs: int64(r.RetryAfter),
		DurationNs:   int64(r.Duration),
	}
}
