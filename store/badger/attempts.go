package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// RecordAttempt writes, in one transaction of the commit group: the attempt
// record and its two index keys (all with the log-retention TTL), the
// delivery's new state with its index keys, and the webhook's stats.
// ErrNotFound when the delivery does not exist.
func (s *Store) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	if err := store.CheckAttempt(d, a); err != nil {
		return err
	}
	dc, ac := *d, *a
	ac.DeliveryID = dc.ID
	ac.FillBodySizes()
	if ac.CreatedAt.IsZero() {
		ac.CreatedAt = s.now()
	}
	size := 1024 + len(ac.RequestBody) + len(ac.ResponseBody)
	err := s.submit(ctx, size, func(w *wtx) error {
		// A claimed delivery's record is usually still the claim's copy:
		// moving from it saves a read that, in a backlog, misses every
		// cache (claim.rec says when the copy can be trusted).
		move := w.move
		old, flags, ok := s.claims.storedRecord(dc.ID, s.epoch.Load())
		if !ok {
			var err error
			if old, flags, err = getDeliveryRec(w.txn, dc.ID); err != nil {
				return fmt.Errorf("store: record attempt %s: %w", dc.ID, err)
			}
			move = w.transition
		}
		next := dc
		// The index keys derive from these; they never change after ingest.
		next.EventID, next.WebhookID, next.CreatedAt = old.EventID, old.WebhookID, old.CreatedAt
		if err := move(old, &next, flags); err != nil {
			return err
		}
		if err := w.putAttempt(&ac); err != nil {
			return err
		}
		if err := w.updateStats(next.WebhookID, ac.Outcome == store.OutcomeSuccess, ac.CreatedAt); err != nil {
			return err
		}
		// The claim is released only once the new state is durable, by the
		// committer (claimSet.committed); on error it stays claimed and the
		// caller retries.
		w.recorded = append(w.recorded, dc.ID)
		return nil
	})
	return err
}

func (w *wtx) putAttempt(a *store.Attempt) error {
	v := encodeAttempt(a)
	idx := encodeAttemptIndex(a)
	byCo, byHook := attemptIndexKeys(a)
	return errors.Join(
		w.setExpiring(attemptKey(a.DeliveryID, a.Attempt), v),
		w.setExpiring(byCo, idx),
		w.setExpiring(byHook, idx),
	)
}

// updateStats appends one outcome to the webhook's rolling window.
func (w *wtx) updateStats(webhookID string, success bool, at time.Time) error {
	st, err := readStats(w.txn, webhookID)
	if err != nil {
		return err
	}
	st.Recent = append(st.Recent, success)
	if n := len(st.Recent); n > store.StatsWindow {
		st.Recent = st.Recent[n-store.StatsWindow:]
	}
	if success {
		st.LastSuccessAt, st.FailingSince = at, time.Time{}
	} else if st.FailingSince.IsZero() {
		st.FailingSince = at
	}
	return w.set(statsKey(webhookID), encodeStats(st))
}

func readStats(txn *badger.Txn, webhookID string) (store.WebhookStats, error) {
	v, err := getValue(txn, statsKey(webhookID))
	if errors.Is(err, store.ErrNotFound) {
		return store.WebhookStats{}, nil
	}
	if err != nil {
		return store.WebhookStats{}, err
	}
	return decodeStats(v)
}

// GetWebhookStats returns the webhook's rolling stats; zero stats (no error)
// for a webhook without attempts.
func (s *Store) GetWebhookStats(ctx context.Context, webhookID string) (store.WebhookStats, error) {
	var st store.WebhookStats
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		st, err = readStats(txn, webhookID)
		return err
	})
	return st, err
}

// GetAttempt returns one attempt record.
func (s *Store) GetAttempt(ctx context.Context, deliveryID string, attempt int) (*store.Attempt, error) {
	var a *store.Attempt
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		a, err = getAttempt(txn, deliveryID, attempt)
		return err
	})
	return a, err
}

func getAttempt(txn *badger.Txn, deliveryID string, attempt int) (*store.Attempt, error) {
	v, err := getValue(txn, attemptKey(deliveryID, attempt))
	if err != nil {
		return nil, err
	}
	return readAttempt(txn, v)
}

// readAttempt decodes an attempt record and, when its request body is the
// event's payload, reads that from the event (as much of it as the record
// kept). An event outlives its attempts (its retention starts when its last
// delivery finishes); should it be gone anyway, the body reads as empty
// rather than failing the log.
func readAttempt(txn *badger.Txn, v []byte) (*store.Attempt, error) {
	a, kept, err := decodeAttemptPart(v, true)
	if err != nil || !a.RequestBodyIsPayload || a.RequestBody != nil {
		return a, err
	}
	ev, err := getValue(txn, eventKey(a.EventID))
	if errors.Is(err, store.ErrNotFound) {
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := decodeEvent(ev)
	if err != nil {
		return nil, err
	}
	a.RequestBody = r.Payload
	if kept >= 0 && kept < len(a.RequestBody) {
		a.RequestBody = bytes.Clone(a.RequestBody[:kept]) // not pinning the whole payload
	}
	a.FillBodySizes()
	return a, nil
}

// ListAttempts returns one page of matching attempt records and the total.
// A delivery id reads that delivery's records; otherwise the webhook index
// (when a webhook is given) or the company index is range-scanned by
// CreatedAt, filtering on the index values, and only the page's records
// are read. With neither, every record is scanned (operators only).
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	var out []*store.Attempt
	total := 0
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		switch {
		case f.DeliveryID != "":
			out, total, err = listByDelivery(txn, f)
		case f.WebhookID != "":
			out, total, err = listByIndex(txn, attemptHkPrefix(f.WebhookID), f)
		case f.CompanyID != 0:
			out, total, err = listByIndex(txn, attemptCoPrefix(f.CompanyID), f)
		default:
			out, total, err = listAll(txn, f)
		}
		return err
	})
	return out, total, err
}

// matchIndex reports whether an index value passes f.
func matchIndex(f *store.AttemptFilter, v attemptIndexValue) bool {
	switch {
	case f.CompanyID != 0 && v.CompanyID != f.CompanyID,
		f.WebhookID != "" && v.WebhookID != f.WebhookID,
		f.EventName != "" && v.EventName != f.EventName,
		f.WorkOrderID != 0 && v.WorkOrderID != f.WorkOrderID,
		f.Status == -1 && v.Status != 0,
		f.Status > 0 && v.Status != f.Status,
		!f.CreatedFrom.IsZero() && v.CreatedAt < timeKey(f.CreatedFrom),
		!f.CreatedTo.IsZero() && v.CreatedAt > timeKey(f.CreatedTo):
		return false
	}
	return true
}

// match reports whether a passes f.
func match(f *store.AttemptFilter, a *store.Attempt) bool {
	return matchIndex(f, attemptIndexValue{
		CompanyID: a.CompanyID, WorkOrderID: a.WorkOrderID, Status: a.ResponseStatus,
		CreatedAt: timeKey(a.CreatedAt), WebhookID: a.WebhookID, EventName: a.EventName,
	})
}

// page returns the [Offset, Offset+Limit) window of n items.
func page(f *store.AttemptFilter, n int) (lo, hi int) {
	lo = min(max(f.Offset, 0), n)
	hi = n
	if f.Limit > 0 && lo+f.Limit < n {
		hi = lo + f.Limit
	}
	return lo, hi
}

// walkIndex walks an attempt index in CreatedAt order (reverse for newest
// first) inside [CreatedFrom, CreatedTo], filtering on the index values,
// and calls fn with the "<deliveryID>\0<attempt4>" ref of each match until
// fn returns false. ref is valid during the call only.
func walkIndex(txn *badger.Txn, prefix []byte, f store.AttemptFilter, fn func(ref []byte) bool) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchSize = 64
	opts.Reverse = !f.OldestFirst
	it := txn.NewIterator(opts)
	defer it.Close()

	from, to := uint64(0), uint64(math.MaxUint64)
	if !f.CreatedFrom.IsZero() {
		from = timeKey(f.CreatedFrom)
	}
	if !f.CreatedTo.IsZero() {
		to = timeKey(f.CreatedTo)
	}
	seek := key(prefix, u64(from))
	if opts.Reverse {
		seek = key(prefix, u64(to), []byte{0xff})
	}
	for it.Seek(seek); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		created := binary.BigEndian.Uint64(k[len(prefix):])
		if created < from || created > to {
			break
		}
		var v attemptIndexValue
		var ok bool
		if err := item.Value(func(b []byte) error { v, ok = decodeAttemptIndex(b); return nil }); err != nil {
			return err
		}
		if ok && matchIndex(&f, v) && !fn(k[len(prefix)+8:]) {
			return nil
		}
	}
	return nil
}

// listByIndex counts the matches of an attempt index and reads the records
// of the requested page only.
func listByIndex(txn *badger.Txn, prefix []byte, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	type ref struct {
		id string
		n  int
	}
	var refs []ref
	total := 0
	lo := max(f.Offset, 0)
	err := walkIndex(txn, prefix, f, func(tail []byte) bool {
		if total >= lo && (f.Limit <= 0 || len(refs) < f.Limit) {
			if id, n, ok := splitAttemptRef(tail); ok {
				refs = append(refs, ref{id, n})
			}
		}
		total++
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*store.Attempt, 0, len(refs))
	for _, r := range refs {
		var a *store.Attempt
		var err error
		if f.Summaries {
			a, err = getAttemptSummary(txn, attemptKey(r.id, r.n))
		} else {
			a, err = getAttempt(txn, r.id, r.n)
		}
		if errors.Is(err, store.ErrNotFound) { // expired between index and record
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, nil
}

// getAttemptSummary reads the record under k without its headers and
// bodies, decoding from the value Badger lends rather than a copy of it.
func getAttemptSummary(txn *badger.Txn, k []byte) (*store.Attempt, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var a *store.Attempt
	err = item.Value(func(v []byte) error {
		var err error
		a, _, err = decodeAttemptPart(v, false)
		return err
	})
	return a, err
}

// WalkAttempts calls fn with each matching record's summary, in the order
// ListAttempts pages them. A webhook or company walks its index and reads
// one record at a time; a delivery id (a handful of records) or no scope at
// all (operators) reads the summaries first, then orders them.
func (s *Store) WalkAttempts(ctx context.Context, f store.AttemptFilter, fn func(*store.Attempt) bool) error {
	f.Offset, f.Limit, f.Summaries = 0, 0, true
	return s.view(ctx, func(txn *badger.Txn) error {
		var prefix []byte
		switch {
		case f.DeliveryID != "":
		case f.WebhookID != "":
			prefix = attemptHkPrefix(f.WebhookID)
		case f.CompanyID != 0:
			prefix = attemptCoPrefix(f.CompanyID)
		}
		if prefix == nil {
			var all []*store.Attempt
			var err error
			if f.DeliveryID != "" {
				all, _, err = listByDelivery(txn, f)
			} else {
				all, _, err = listAll(txn, f)
			}
			for _, a := range all {
				if err != nil || !fn(a) {
					break
				}
			}
			return err
		}
		var k []byte // the record's key: pAttempt + ref
		var werr error
		err := walkIndex(txn, prefix, f, func(ref []byte) bool {
			if werr = ctx.Err(); werr != nil {
				return false
			}
			k = append(append(k[:0], pAttempt...), ref...)
			a, err := getAttemptSummary(txn, k)
			if errors.Is(err, store.ErrNotFound) { // expired between index and record
				return true
			}
			if werr = err; err != nil {
				return false
			}
			return fn(a)
		})
		return errors.Join(err, werr)
	})
}

// listByDelivery serves "uuid" (all attempts) and "uuid:n" (one).
func listByDelivery(txn *badger.Txn, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	id, n, err := store.ParseLogID(f.DeliveryID)
	if err != nil {
		return nil, 0, err
	}
	var all []*store.Attempt
	if n > 0 {
		var a *store.Attempt
		if f.Summaries {
			a, err = getAttemptSummary(txn, attemptKey(id, n))
		} else {
			a, err = getAttempt(txn, id, n)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, 0, err
		}
		if a != nil {
			all = append(all, a)
		}
	} else if all, err = scanAttempts(txn, attemptPrefix(id), f); err != nil {
		return nil, 0, err
	}
	return pageAttempts(all, f)
}

// listAll scans every attempt record: no company and no webhook given.
func listAll(txn *badger.Txn, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	all, err := scanAttempts(txn, []byte(pAttempt), f)
	if err != nil {
		return nil, 0, err
	}
	return pageAttempts(all, f)
}

func scanAttempts(txn *badger.Txn, prefix []byte, f store.AttemptFilter) ([]*store.Attempt, error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchSize = 16
	it := txn.NewIterator(opts)
	defer it.Close()
	var out []*store.Attempt
	for it.Rewind(); it.Valid(); it.Next() {
		var a *store.Attempt
		var err error
		if f.Summaries {
			err = it.Item().Value(func(v []byte) (derr error) { a, _, derr = decodeAttemptPart(v, false); return derr })
		} else {
			var v []byte
			if v, err = it.Item().ValueCopy(nil); err == nil {
				a, err = readAttempt(txn, v)
			}
		}
		if err != nil {
			return nil, err
		}
		if match(&f, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// pageAttempts filters, orders and pages records read in full.
func pageAttempts(all []*store.Attempt, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	all = slices.DeleteFunc(all, func(a *store.Attempt) bool { return !match(&f, a) })
	slices.SortStableFunc(all, func(a, b *store.Attempt) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if c == 0 {
			c = a.Attempt - b.Attempt
		}
		if !f.OldestFirst {
			c = -c
		}
		return c
	})
	lo, hi := page(&f, len(all))
	return all[lo:hi], len(all), nil
}
