package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// RecordAttempt is RecordAttempts of one record.
func (s *Store) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	return store.RecordOne(ctx, s, d, a)
}

// recordOpBytes bounds what one operation of RecordAttempts carries, so
// that a batch with large bodies still fits a transaction (maxGroupBytes).
const recordOpBytes = maxGroupBytes / 2

// RecordAttempts writes each attempt as RecordAttempt does: the attempt
// record and its company index key (with the log-retention TTL), the
// delivery's new state, and the webhook's stats (in memory, written once
// per webhook per group: statsCache). The records go to the committer as
// few operations (one unless their bodies are large), so they share one
// group commit. A record whose delivery does not exist gets
// ErrNotFound in its Err; the others are written.
func (s *Store) RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error {
	type item struct {
		rec *store.AttemptRecord
		d   store.Delivery // copies: the committer never keeps caller memory
		a   store.Attempt
	}
	items := make([]item, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.Err = store.CheckAttempt(r.Delivery, r.Attempt); r.Err != nil {
			continue
		}
		it := item{rec: r, d: *r.Delivery, a: *r.Attempt}
		it.a.DeliveryID = it.d.ID
		it.a.FillBodySizes()
		if it.a.CreatedAt.IsZero() {
			it.a.CreatedAt = s.now()
		}
		items = append(items, it)
	}
	var ops []*op
	for rest := items; len(rest) > 0; {
		n, size := 0, 0
		for n < len(rest) && (n == 0 || size < recordOpBytes) {
			size += 1024 + len(rest[n].a.RequestBody) + len(rest[n].a.ResponseBody)
			n++
		}
		part := rest[:n]
		rest = rest[n:]
		// lazy: an outcome need not be synced before the worker goes on
		// (commit.go, "Outcomes").
		ops = append(ops, &op{size: size, lazy: true, done: make(chan struct{}), run: func(w *wtx) error {
			for i := range part {
				it := &part[i]
				it.rec.Err = nil // run again when the group is re-run
				rejected, err := w.recordAttempt(&it.d, &it.a)
				if err != nil {
					return err
				}
				it.rec.Err = rejected
			}
			return nil
		}})
	}
	return s.submitAll(ctx, ops)
}

// recordAttempt writes one attempt in the group's transaction. rejected
// says why this record alone was not written (its delivery is unknown, its
// state invalid), before anything of it was; err fails the group.
func (w *wtx) recordAttempt(dc *store.Delivery, ac *store.Attempt) (rejected, err error) {
	if !validState(dc.State) || !validPriority(dc.Priority) {
		return fmt.Errorf("store: record attempt %s: state %q, priority %d: invalid", dc.ID, dc.State, dc.Priority), nil
	}
	// A claimed delivery's record is usually still the claim's copy:
	// moving from it saves a read that, in a backlog, misses every
	// cache (claim.rec says when the copy can be trusted).
	// Not when this group recorded the delivery already: the copy is then
	// older than the transaction's record.
	move := w.move
	old, flags, ok := w.s.claims.storedRecord(dc.ID, w.s.epoch.Load())
	if _, again := w.recordedSet[dc.ID]; again {
		ok = false
	}
	if !ok {
		if old, flags, err = getDeliveryRec(w.txn, dc.ID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("store: record attempt %s: %w", dc.ID, err), nil
		} else if err != nil {
			return nil, fmt.Errorf("store: record attempt %s: %w", dc.ID, err)
		}
		move = w.transition
	}
	next := *dc
	// The index keys derive from these; they never change after ingest.
	next.EventID, next.WebhookID, next.CreatedAt = old.EventID, old.WebhookID, old.CreatedAt
	next.CompanyID = old.CompanyID
	// The attempt is logged under its delivery's company: a read by the
	// delivery's id builds the record's key from the delivery's record.
	ac.CompanyID = old.CompanyID
	next.Attempted = old.Attempted.With(ac.Attempt, ac.CreatedAt, w.s.retention, maxAttemptTimes)
	if err := move(old, &next, flags); err != nil {
		return nil, err
	}
	if err := w.putAttempt(ac); err != nil {
		return nil, err
	}
	w.updateStats(next.WebhookID, ac.Outcome == store.OutcomeSuccess, ac.CreatedAt)
	// The claim is released only once the new state is durable, by the
	// committer (claimSet.committed); on error it stays claimed and the
	// caller retries.
	w.recorded = append(w.recorded, dc.ID)
	if w.recordedSet == nil {
		w.recordedSet = make(map[string]struct{})
	}
	w.recordedSet[dc.ID] = struct{}{}
	return nil, nil
}

// maxAttemptTimes bounds the attempt times a delivery's record keeps: a
// delivery retried by hand again and again would otherwise grow its record
// (read by every claim of it) with each attempt for as long as the log
// keeps them. The records of older attempts stay in the company's log;
// only a read by the delivery's id no longer finds them. Eight replays of
// the whole retry schedule (8 attempts) fit.
const maxAttemptTimes = 64

// putAttempt writes the record under its company key (format 8): one key
// per attempt. Listings count and filter on the key; a read by the
// delivery's id finds it through the times in the delivery's record
// (Delivery.Attempted, set by recordAttempt in the same transaction).
func (w *wtx) putAttempt(a *store.Attempt) error {
	return w.setExpiring(attemptKey8(a), encodeAttempt(a))
}

// updateStats appends one outcome to the webhook's rolling window, in the
// group's copy of its stats; commit writes each changed webhook's once.
func (w *wtx) updateStats(webhookID string, success bool, at time.Time) {
	st, ok := w.stats[webhookID]
	if !ok {
		base, err := w.s.committedStats(w.txn, webhookID)
		if err != nil {
			// A corrupt record: start the window again rather than
			// refusing every attempt of the webhook.
			w.s.log.Warn("store: webhook stats unreadable; starting them again", "webhook", webhookID, "err", err)
		}
		st = &base
		if w.stats == nil {
			w.stats = make(map[string]*store.WebhookStats)
		}
		w.stats[webhookID] = st
	}
	st.Recent = append(st.Recent, success)
	if n := len(st.Recent); n > store.StatsWindow {
		st.Recent = append(st.Recent[:0], st.Recent[n-store.StatsWindow:]...)
	}
	if success {
		st.LastSuccessAt, st.FailingSince = at, time.Time{}
	} else if st.FailingSince.IsZero() {
		st.FailingSince = at
	}
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

// statsCache holds the webhooks' stats as last committed: every attempt
// updates them, and reading and rewriting the S/ key per attempt was a
// read and a write each; now a group writes each webhook's once. It is
// filled from the S/ keys on first use, so it is rebuilt after a restart.
type statsCache struct {
	mu sync.Mutex
	m  map[string]store.WebhookStats
}

// get returns a copy of the cached stats of the webhook.
func (c *statsCache) get(webhookID string) (store.WebhookStats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[webhookID]
	st.Recent = slices.Clone(st.Recent)
	return st, ok
}

// fill caches st unless the webhook's are cached already (by a commit,
// which is newer than what a reader read before it).
func (c *statsCache) fill(webhookID string, st store.WebhookStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[webhookID]; !ok {
		c.m[webhookID] = st
	}
}

// publish caches a committed group's stats.
func (c *statsCache) publish(stats map[string]*store.WebhookStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, st := range stats {
		c.m[id] = *st
	}
}

// committedStats returns a copy of the webhook's committed stats, from the
// cache or from its key (the committer is the only writer of both).
func (s *Store) committedStats(txn *badger.Txn, webhookID string) (store.WebhookStats, error) {
	if st, ok := s.stats.get(webhookID); ok {
		return st, nil
	}
	st, err := readStats(txn, webhookID)
	if err != nil {
		return store.WebhookStats{}, err
	}
	s.stats.fill(webhookID, st)
	st.Recent = slices.Clone(st.Recent)
	return st, nil
}

// GetWebhookStats returns the webhook's rolling stats; zero stats (no error)
// for a webhook without attempts.
func (s *Store) GetWebhookStats(ctx context.Context, webhookID string) (store.WebhookStats, error) {
	if st, ok := s.stats.get(webhookID); ok {
		return st, nil
	}
	var st store.WebhookStats
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		st, err = readStats(txn, webhookID)
		return err
	})
	if err == nil && len(st.Recent) > 0 {
		// Only stats that exist: asking about unknown webhooks must not
		// grow the cache.
		s.stats.fill(webhookID, st)
		st.Recent = slices.Clone(st.Recent)
	}
	return st, err
}

// GetAttempt returns one attempt record.
func (s *Store) GetAttempt(ctx context.Context, deliveryID string, attempt int) (*store.Attempt, error) {
	var a *store.Attempt
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		a, err = getAttempt(txn, deliveryID, attempt, true)
		return err
	})
	return a, err
}

// getAttempt reads attempt n of delivery id, whole or as a summary.
func getAttempt(txn *badger.Txn, id string, n int, full bool) (*store.Attempt, error) {
	o, err := attemptsOfDelivery(txn, id)
	if err != nil {
		return nil, err
	}
	r := o.reader(txn, id)
	defer r.close()
	v, err := r.value(n)
	if err != nil {
		return nil, err
	}
	return decodeStored(txn, v, full)
}

// attemptsOf is what finds a delivery's attempt records by its id: its
// company and the times of its attempts (format 8).
type attemptsOf struct {
	company int64
	times   store.AttemptTimes
}

// attemptsOfDelivery reads them from delivery id's record; none when the
// record is gone (its attempts expired before it: a finished record's
// retention starts at its last attempt).
func attemptsOfDelivery(txn *badger.Txn, id string) (attemptsOf, error) {
	d, _, err := getDeliveryRec(txn, id)
	if errors.Is(err, store.ErrNotFound) {
		return attemptsOf{}, nil
	}
	if err != nil {
		return attemptsOf{}, err
	}
	return attemptsOf{d.CompanyID, d.Attempted}, nil
}

// attemptReader reads one delivery's attempt records by number. Those of
// format 8 are read through one iterator over the company's keys, opened
// at the first: a delivery's list reads up to maxAttemptTimes of them.
type attemptReader struct {
	attemptsOf
	txn *badger.Txn
	id  string
	it  *badger.Iterator
}

func (o attemptsOf) reader(txn *badger.Txn, id string) *attemptReader {
	return &attemptReader{attemptsOf: o, txn: txn, id: id}
}

// value returns the stored record of attempt n: under its company key
// when the delivery's record has the attempt's time (format 8), else under
// its a/ key (written before).
func (r *attemptReader) value(n int) ([]byte, error) {
	at, ok := r.times.Of(n)
	if !ok {
		return getValue(r.txn, attemptKey(r.id, n))
	}
	// The key goes on with the record's filter fields: its start is known.
	prefix := attemptRefKey(nil, r.company, at, r.id, n)
	if r.it == nil {
		r.it = r.txn.NewIterator(badger.IteratorOptions{Prefix: prefix[:len(pAttemptByCo)+8]})
	}
	for r.it.Seek(prefix); r.it.ValidForPrefix(prefix); r.it.Next() {
		if len(r.it.Item().Key()) > len(prefix) { // not an index key of format 7
			return r.it.Item().ValueCopy(nil)
		}
	}
	return nil, store.ErrNotFound
}

func (r *attemptReader) close() {
	if r.it != nil {
		r.it.Close()
	}
}

// decodeStored decodes a stored record, whole (with readAttempt) or as a
// summary.
func decodeStored(txn *badger.Txn, v []byte, full bool) (*store.Attempt, error) {
	if full {
		return readAttempt(txn, v)
	}
	a, _, err := decodeAttemptPart(v, false)
	return a, err
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
// A delivery id reads that delivery's records; otherwise the company index
// is range-scanned by CreatedAt, filtering on the index values (webhook,
// event, status...), and only the page's records are read. Without a
// company (operators only), every record is scanned.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	var out []*store.Attempt
	total := 0
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		switch {
		case f.DeliveryID != "":
			out, total, err = listByDelivery(txn, f)
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

// indexEntry is one match of walkIndex: attempt n of delivery id, under
// key. filtered: the key is the record's (format 8); otherwise the record
// is under its a/ key.
type indexEntry struct {
	item     *badger.Item
	key      []byte // the item's key, kept by listByIndex
	id       string
	n        int
	filtered bool
}

// record reads e's record, whole or as a summary.
func (e indexEntry) record(txn *badger.Txn, full bool) (*store.Attempt, error) {
	if !e.filtered {
		v, err := getValue(txn, attemptKey(e.id, e.n))
		if err != nil {
			return nil, err
		}
		return decodeStored(txn, v, full)
	}
	if !full {
		var a *store.Attempt
		err := e.item.Value(func(v []byte) (err error) { a, _, err = decodeAttemptPart(v, false); return err })
		return a, err
	}
	v, err := e.item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	return readAttempt(txn, v)
}

// walkIndex walks a company's attempt keys in CreatedAt order (reverse for
// newest first) inside [CreatedFrom, CreatedTo], filtering on what the keys
// hold (format 8; a key written before has its index value read), and
// calls fn with each match until fn returns false. The entry's item is
// valid during the call only.
func walkIndex(txn *badger.Txn, prefix []byte, f store.AttemptFilter, fn func(e indexEntry) bool) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchValues = false // the keys say what a filter needs
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
		v, id, n, filtered, ok := attemptKeyOf(item.Key())
		if !ok {
			continue
		}
		if v.CreatedAt < from || v.CreatedAt > to {
			break
		}
		if !filtered {
			if err := item.Value(func(b []byte) error { v, ok = decodeAttemptIndex(b); return nil }); err != nil {
				return err
			}
		}
		if ok && matchIndex(&f, v) && !fn(indexEntry{item: item, id: id, n: n, filtered: filtered}) {
			return nil
		}
	}
	return nil
}

// listByIndex counts the matches of an attempt index and reads the records
// of the requested page only.
func listByIndex(txn *badger.Txn, prefix []byte, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	var page []indexEntry
	total := 0
	lo := max(f.Offset, 0)
	err := walkIndex(txn, prefix, f, func(e indexEntry) bool {
		if total >= lo && (f.Limit <= 0 || len(page) < f.Limit) {
			e.key, e.item = e.item.KeyCopy(nil), nil // the item is valid during the walk only
			page = append(page, e)
		}
		total++
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*store.Attempt, 0, len(page))
	for _, e := range page {
		a, err := readEntry(txn, e, !f.Summaries)
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

// readEntry reads the record of an entry kept after its walk.
func readEntry(txn *badger.Txn, e indexEntry, full bool) (*store.Attempt, error) {
	if e.filtered {
		item, err := txn.Get(e.key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, store.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		e.item = item
	}
	return e.record(txn, full)
}

// WalkAttempts calls fn with each matching record's summary, in the order
// ListAttempts pages them. A company walks its keys and reads one record
// at a time; a delivery id (a handful of records) or no scope at all
// (operators) reads the summaries first, then orders them.
func (s *Store) WalkAttempts(ctx context.Context, f store.AttemptFilter, fn func(*store.Attempt) bool) error {
	f.Offset, f.Limit, f.Summaries = 0, 0, true
	return s.view(ctx, func(txn *badger.Txn) error {
		if f.DeliveryID != "" || f.CompanyID == 0 {
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
		var werr error
		err := walkIndex(txn, attemptCoPrefix(f.CompanyID), f, func(e indexEntry) bool {
			if werr = ctx.Err(); werr != nil {
				return false
			}
			a, err := e.record(txn, false)
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
		a, err := getAttempt(txn, id, n, !f.Summaries)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, 0, err
		}
		if a != nil {
			all = append(all, a)
		}
		return pageAttempts(all, f)
	}
	// Records written before format 8, then those the delivery's record
	// has times for.
	if all, err = scanAttempts(txn, attemptPrefix(id), f, nil); err != nil {
		return nil, 0, err
	}
	o, err := attemptsOfDelivery(txn, id)
	if err != nil {
		return nil, 0, err
	}
	r := o.reader(txn, id)
	defer r.close()
	for i := range o.times.At {
		n := o.times.First + i
		if _, ok := o.times.Of(n); !ok || slices.ContainsFunc(all, func(a *store.Attempt) bool { return a.Attempt == n }) {
			continue
		}
		v, err := r.value(n)
		if errors.Is(err, store.ErrNotFound) { // expired
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		a, err := decodeStored(txn, v, !f.Summaries)
		if err != nil {
			return nil, 0, err
		}
		all = append(all, a)
	}
	return pageAttempts(all, f)
}

// listAll scans every attempt record: no company and no webhook given.
// Records written before format 8 are under a/ keys, the others under A/.
func listAll(txn *badger.Txn, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	old, err := scanAttempts(txn, []byte(pAttempt), f, nil)
	if err != nil {
		return nil, 0, err
	}
	all, err := scanAttempts(txn, []byte(pAttemptByCo), f, func(k []byte) bool {
		_, _, _, filtered, ok := attemptKeyOf(k)
		return ok && filtered
	})
	if err != nil {
		return nil, 0, err
	}
	return pageAttempts(append(old, all...), f)
}

// scanAttempts reads the records under prefix whose keys pass keep (nil:
// all) and that match f.
func scanAttempts(txn *badger.Txn, prefix []byte, f store.AttemptFilter, keep func(k []byte) bool) ([]*store.Attempt, error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchSize = 16
	opts.PrefetchValues = keep == nil
	it := txn.NewIterator(opts)
	defer it.Close()
	var out []*store.Attempt
	for it.Rewind(); it.Valid(); it.Next() {
		if keep != nil && !keep(it.Item().Key()) {
			continue
		}
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
