package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ParseError is a body or header refused before anything is stored: its
// message says what is wrong in words a producer can act on. The API
// answers it 400.
type ParseError struct {
	Field  string // the member or header at fault ("event.name", "Idempotency-Key"); "" for the body as a whole
	Offset int64  // the byte of the body at fault; -1 when not known
	Msg    string
}

func (e *ParseError) Error() string { return e.Msg }

// bad is a ParseError of field at no known offset.
func bad(field, msg string) *ParseError { return &ParseError{Field: field, Offset: -1, Msg: msg} }

// ErrWrongCompany is what a WrongCompanyError is (errors.Is).
var ErrWrongCompany = errors.New("the event is for another company than the token's")

// WrongCompanyError is an event for another company than the one the
// token may publish for. The API answers it 403.
type WrongCompanyError struct {
	Token, Event int64 // the token's company, the event's
}

func (e *WrongCompanyError) Error() string {
	return fmt.Sprintf("this token may publish for company %d only, the event is for company %d", e.Token, e.Event)
}

// Is makes errors.Is(err, ErrWrongCompany) true.
func (e *WrongCompanyError) Is(target error) bool { return target == ErrWrongCompany }

// IdempotencyConflictError is an Idempotency-Key used before with another
// body: replaying the first answer would drop this event without a word.
// The API answers it 422.
type IdempotencyConflictError struct {
	From string // KeyHeader or KeyMember
	Key  string
	TTL  time.Duration // delivery.idempotency_ttl
}

func (e *IdempotencyConflictError) Error() string {
	return e.From + " " + strconv.Quote(e.Key) +
		" was already used with another body (keys are kept for delivery.idempotency_ttl = " +
		e.TTL.String() + "): send a new key for a new event, or the same body to get the first answer"
}

// QuotaError is a publish refused for a limit: the company's publish rate
// (Rate; the API answers 429 with Retry-After), or storage: the company's
// stored bytes or the data folder's free space (the API answers 507). Its
// message names the limit and its setting. The Quota and DiskGuard hooks
// return it.
type QuotaError struct {
	Msg        string
	Rate       bool          // the publish rate, not storage
	RetryAfter time.Duration // with Rate: when to try again, whole seconds
}

func (e *QuotaError) Error() string { return e.Msg }
