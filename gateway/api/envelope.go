// Package api is the HTTP API of the gateway: the one place outside the
// dashboard that speaks Fiber. It turns the typed errors of the packages
// below (ingest, webhooks) into statuses in one mapper, DomainStatus.
package api

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/gateway/webhooks"
)

// Error is an error that reaches an API client in the spec's envelope:
// {"metadata":{"timestamp","path"},"errors":[{"code","message"}],"result":{}}.
type Error struct {
	Status  int
	Message string
	Extra   map[string]any // more members of the error item (e.g. a template error's position)
}

func (e *Error) Error() string { return e.Message }

// Errorf is an *Error with status and msg, as an error.
func Errorf(status int, msg string) error { return &Error{Status: status, Message: msg} }

// Clock is the source of time of the envelope's timestamp; the gateway's
// injected clock, so tests move time instead of sleeping.
type Clock interface {
	Now() time.Time
}

type errorBody struct {
	Metadata map[string]any   `json:"metadata"`
	Errors   []map[string]any `json:"errors"`
	Result   struct{}         `json:"result"`
}

// ErrorHandler is the Fiber error handler: it turns every error a handler
// returns into the envelope. Errors we did not make ourselves never leak
// their text: a person gets a generic message and the log gets the detail.
// bodyLimit is server.body_limit, named in the 413's message.
func ErrorHandler(bodyLimit int64, clock Clock, log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		return writeError(c, err, bodyLimit, clock, log)
	}
}

func writeError(c *fiber.Ctx, err error, bodyLimit int64, clock Clock, log *slog.Logger) error {
	status, msg, extra, known := ClientError(err)
	var fe *fiber.Error
	switch {
	case known:
		if secs, ok := rateRetryAfter(err); ok {
			c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
		}
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
		if status == fiber.StatusRequestEntityTooLarge {
			msg = "request body is larger than the limit of " + strconv.FormatInt(bodyLimit, 10) + " bytes (server.body_limit)"
		}
	default:
		status, msg = fiber.StatusInternalServerError, "internal error"
		log.Error("request failed", "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON(errorBody{
		Metadata: map[string]any{"timestamp": clock.Now().UTC().Format(time.RFC3339Nano), "path": c.Path()},
		Errors:   []map[string]any{errorItem(status, msg, extra)},
	})
}

// errorItem is one member of the envelope's errors: code, message and
// the error's extra members.
func errorItem(status int, msg string, extra map[string]any) map[string]any {
	item := map[string]any{"code": status, "message": msg}
	for k, v := range extra {
		item[k] = v
	}
	return item
}

// rateRetryAfter is how many seconds a publish refused by the company's
// publish rate should wait (its Retry-After); ok is false for any other error.
func rateRetryAfter(err error) (secs int64, ok bool) {
	var qe *ingest.QuotaError
	if errors.As(err, &qe) && qe.Rate {
		return int64(qe.RetryAfter / time.Second), true
	}
	return 0, false
}

// DomainStatus is the HTTP status of an error of the packages below the
// API, which know no HTTP; 0 for any other error.
func DomainStatus(err error) int {
	var (
		pe *ingest.ParseError
		wc *ingest.WrongCompanyError
		ic *ingest.IdempotencyConflictError
		qe *ingest.QuotaError
		ro *webhooks.ReadOnlyError
		wq *webhooks.QuotaError
		ve *webhooks.ValidationError
	)
	switch {
	case errors.As(err, &ve):
		return fiber.StatusBadRequest
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

// ClientError is the status, message and extra members an API client
// reads for err: one of ours (*Error) or one of the packages below the
// API (DomainStatus); ok is false for any other error.
func ClientError(err error) (status int, msg string, extra map[string]any, ok bool) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status, ae.Message, ae.Extra, true
	}
	if st := DomainStatus(err); st != 0 {
		return st, domainMessage(err), nil, true
	}
	return 0, "", nil, false
}

// domainMessage is the message an API client reads for an error of the
// packages below the API: its text, with the prefix every 400 of a request
// the client can fix carries.
func domainMessage(err error) string {
	var ve *webhooks.ValidationError
	if errors.As(err, &ve) {
		return "Invalid request: " + ve.Msg
	}
	return err.Error()
}
