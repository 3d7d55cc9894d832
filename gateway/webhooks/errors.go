package webhooks

import (
	"errors"
)

// ErrNotFound is a webhook that does not exist or belongs to another
// company: a token learns nothing of other companies, not even that an id
// is taken, so both get the same error.
var ErrNotFound = errors.New("Webhook not found")

// ErrArchived matches (errors.Is) an *ArchivedError.
var ErrArchived = errors.New("webhook is archived")

// ArchivedError refuses a change to an archived webhook: archiving is
// permanent.
type ArchivedError struct{ WebhookID string }

func (e *ArchivedError) Error() string {
	return "webhook " + e.WebhookID +
		" is archived and read-only: an archived webhook cannot be changed, reactivated or deleted; create a new webhook instead"
}

// Is makes errors.Is(err, ErrArchived) true.
func (e *ArchivedError) Is(target error) bool { return target == ErrArchived }

// ReadOnlyError refuses a change over the API to a webhook defined in the
// HCL file. Ref names the file, line and block (store.Webhook.SourceRef).
type ReadOnlyError struct{ WebhookID, Ref string }

func (e *ReadOnlyError) Error() string {
	return "webhook " + e.WebhookID + " is defined in " + e.Ref +
		" and is read-only over the API: edit that block and reload the gateway (SIGHUP or `hookgate reload`)"
}

// QuotaError refuses a new webhook of a company at its limit of webhooks.
type QuotaError struct{ Msg string }

func (e *QuotaError) Error() string { return e.Msg }

// ValidationError names the field of a webhook that is wrong; Msg says
// why, starting with the field as the API spells it ('url', 'events').
type ValidationError struct{ Field, Msg string }

func (e *ValidationError) Error() string { return e.Msg }
