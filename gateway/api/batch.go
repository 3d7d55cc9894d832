package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/ingest"
)

// batchRequest is the body of a bulk publish: each item one Field Nation
// envelope and, optionally, its own Idempotency-Key.
type batchRequest struct {
	Events []batchEvent `json:"events"`
}

type batchEvent struct {
	IdempotencyKey string          `json:"idempotencyKey"`
	Envelope       json.RawMessage `json:"envelope"`
	// parsed is what ingest.ParseEnvelope answers for Envelope, when the
	// pass that read the body parsed it (sure; ingest.ReadEnvelope).
	parsed ingest.Parsed
	sure   bool
}

// decodeBatch reads a bulk publish's body as json.Unmarshal does. The usual
// shape (the names spelt as documented, each once, valid UTF-8) is read in
// one jsontext pass; encoding/json validated the whole body and then
// scanned it again (~10 % of a bulk publish's CPU). When the whole body is
// strict JSON (no duplicate names, valid UTF-8: what an envelope must be
// anyway), that pass also parses each envelope, which is then not read a
// second time (another ~8 %); else the pass is made again keeping the
// envelopes raw, for ingest.ParseEnvelope to judge and word their
// refusals. Anything else falls back to json.Unmarshal, which answers (and
// words refusals) as before.
func decodeBatch(body []byte) (batchRequest, error) {
	if req, ok := decodeBatchFast(body, true); ok {
		return req, nil
	}
	if req, ok := decodeBatchFast(body, false); ok {
		return req, nil
	}
	var req batchRequest
	err := json.Unmarshal(body, &req)
	return req, err
}

// decodeBatchFast is the one-pass read of decodeBatch; parse says whether
// it parses the envelopes too, and refuses what is not strict JSON.
func decodeBatchFast(body []byte, parse bool) (req batchRequest, ok bool) {
	if !ingest.BatchWithinDepth(body) {
		return req, false
	}
	// Read in place: nothing is copied into the decoder, and what it reads
	// stays valid (ingest.ReadEnvelope keeps slices of it).
	var opts []jsontext.Options
	if !parse {
		// Each envelope is read raw, as json.RawMessage keeps it: duplicate
		// names and invalid UTF-8 inside it are the envelope parser's to
		// judge, and not checking them here halves this read. Duplicates
		// among the batch's own names are checked below.
		opts = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	}
	d := jsontext.NewDecoder(bytes.NewBuffer(body), opts...)
	ok = readObject(d, func(name string) bool {
		if name != "events" || req.Events != nil || d.PeekKind() != '[' {
			return false
		}
		if _, err := d.ReadToken(); err != nil {
			return false
		}
		req.Events = []batchEvent{} // as encoding/json: [] is empty, not nil
		for d.PeekKind() == '{' {
			var e batchEvent
			hasKey := false
			ok := readObject(d, func(name string) bool {
				switch {
				case name == "envelope" && e.Envelope == nil && parse:
					var ok bool
					e.Envelope, e.sure, ok = ingest.ReadEnvelope(d, body, &e.parsed)
					return ok
				case name == "envelope" && e.Envelope == nil:
					v, err := d.ReadValue()
					e.Envelope = bytes.Clone(v) // the body is fasthttp's, reused after the request
					return err == nil
				case name == "idempotencyKey" && !hasKey && d.PeekKind() == '"':
					t, err := d.ReadToken()
					e.IdempotencyKey, hasKey = t.String(), true
					// encoding/json replaces invalid UTF-8; leave that to it.
					return err == nil && utf8.ValidString(e.IdempotencyKey) && !strings.ContainsRune(e.IdempotencyKey, utf8.RuneError)
				}
				return false
			})
			if !ok {
				return false
			}
			req.Events = append(req.Events, e)
		}
		t, err := d.ReadToken()
		return err == nil && t.Kind() == ']'
	})
	// As encoding/json: nothing but whitespace after the object.
	return req, ok && len(bytes.TrimLeft(body[d.InputOffset():], " \t\r\n")) == 0
}

// readObject reads an object, handing member each name with d at its
// value, which member must read; false gives up.
func readObject(d *jsontext.Decoder, member func(name string) bool) bool {
	if d.PeekKind() != '{' {
		return false
	}
	if _, err := d.ReadToken(); err != nil {
		return false
	}
	for d.PeekKind() == '"' {
		t, err := d.ReadToken()
		if err != nil || !member(t.String()) {
			return false
		}
	}
	t, err := d.ReadToken()
	return err == nil && t.Kind() == '}'
}

// batchItem is the answer to one envelope of a bulk publish: Status 202
// with what POST /api/v1/events answers (Replayed when its key was known),
// or the status and error item that publish would have answered.
type batchItem struct {
	Index    int  `json:"index"`
	Status   int  `json:"status"`
	Replayed bool `json:"replayed,omitempty"`
	*ingest.Result
	Error map[string]any `json:"error,omitempty"`
}

// batchResult is the result of a bulk publish.
type batchResult struct {
	Accepted int         `json:"accepted"`
	Refused  int         `json:"refused"`
	Items    []batchItem `json:"items"`
}

// handlePublishBatch is POST /api/v1/events/batch: up to api.max_batch_events
// envelopes, each checked, fanned out and answered on its own (one bad item
// does not refuse the others), those accepted written in one durable group
// before the 202 (ingest.Service.PublishBatch).
func (s *Server) handlePublishBatch(c *fiber.Ctx) error {
	if c.Get("Idempotency-Key") != "" {
		return Errorf(fiber.StatusBadRequest, "Invalid request: Idempotency-Key: a bulk publish takes a key per envelope (events[].idempotencyKey), not in the header")
	}
	req, err := decodeBatch(c.Body())
	if err != nil {
		return Errorf(fiber.StatusBadRequest, `Invalid request: events: the body must be {"events":[{"envelope":{...},"idempotencyKey":"..."}]}: `+ingest.JSONErrorText(err))
	}
	max := s.cfg.API.MaxBatchEvents
	switch n := len(req.Events); {
	case n == 0:
		return Errorf(fiber.StatusBadRequest, "Invalid request: events: no envelope")
	case n > max:
		return Errorf(fiber.StatusBadRequest, "Invalid request: events: "+strconv.Itoa(n)+" envelopes; a bulk publish takes at most "+strconv.Itoa(max)+" (api.max_batch_events)")
	}
	claims := ClaimsOf(c)
	rs := make([]ingest.Request, len(req.Events))
	for i := range req.Events {
		e := &req.Events[i]
		// decodeBatch copied each envelope out of fasthttp's buffer already.
		rs[i] = ingest.Request{Company: claims.CompanyID, ClientID: claims.ClientID, IdempotencyKey: e.IdempotencyKey,
			KeyFrom: ingest.KeyMember, Body: e.Envelope}
		if e.sure {
			rs[i].Parsed = &e.parsed
		}
	}
	out := batchResult{Items: make([]batchItem, len(rs))}
	ctx, end := s.startPublishSpan(c) // trace.go: each envelope's fan-out is a child
	defer end(nil)
	outcomes := s.ingest.PublishBatch(ctx, rs)
	for i := range outcomes {
		o, it := &outcomes[i], &out.Items[i]
		it.Index = i
		if o.Err != nil {
			it.Status, it.Error = s.itemError(c, i, o.Err)
			out.Refused++
			continue
		}
		// Points into outcomes: no allocation per item.
		it.Status, it.Replayed, it.Result = fiber.StatusAccepted, o.Replayed, &o.Result
		out.Accepted++
	}
	return s.ok(c, fiber.StatusAccepted, out)
}

// itemError is the status and error item of one refused envelope: what
// POST /api/v1/events would have answered for it, plus where in the
// envelope (a 400) or when to publish again (a 429) as members, since a
// batch has no header per item. An error of ours the client cannot read
// is logged.
func (s *Server) itemError(c *fiber.Ctx, i int, err error) (int, map[string]any) {
	status, msg, extra, known := ClientError(err)
	if !known {
		status, msg = fiber.StatusInternalServerError, "internal error"
		s.log.Error("bulk publish item failed", "path", c.Path(), "index", i, "err", err)
	}
	item := errorItem(status, msg, extra)
	if pe := (*ingest.ParseError)(nil); errors.As(err, &pe) {
		// Where in the item's envelope, so a producer can find it among 500.
		item["field"] = pe.Field
		if pe.Offset >= 0 {
			item["offset"] = pe.Offset
		}
	}
	if secs, ok := rateRetryAfter(err); ok {
		item["retryAfter"] = secs // the single publish's Retry-After
	}
	return status, item
}
