package host

import (
	"time"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
	"github.com/hookgate/hookgate/plugins/sdk"
)

func requestToProto(id uint64, r *sdk.Request) *sinkpb.DeliverRequest {
	return &sinkpb.DeliverRequest{
		Id:         id,
		DeliveryId: r.ID,
		Method:     r.Method,
		Url:        r.URL,
		Headers:    sinkpb.PackHeaders(r.Headers),
		Body:       r.Body,
		TimeoutNs:  int64(r.Timeout),

		Traceparent: r.Traceparent,
	}
}

func resultFromProto(r *sinkpb.DeliverResult) *sdk.Result {
	return &sdk.Result{
		Status:      int(r.GetStatus()),
		Headers:     sinkpb.UnpackHeaders(r.GetHeaders()),
		Body:        r.GetBody(),
		BodySize:    r.GetBodySize(),
		ExternalRef: r.GetExternalRef(),
		Error:       r.GetError(),
		Retryable:   r.GetRetryable(),
		RetryAfter:  time.Duration(r.GetRetryAfterNs()),
		Duration:    time.Duration(r.GetDurationNs()),
	}
}
