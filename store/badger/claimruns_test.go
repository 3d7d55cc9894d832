package badger

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
)

func openRunsStore(t *testing.T, onDisk bool) *Store {
	t.Helper()
	opts := Options{InMemory: !onDisk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if onDisk {
		opts.Path = t.TempDir() // synced commits: groups take long enough for scans to run while they commit
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// queueHook ingests one pending delivery of webhookID at priority 1 for each
// due time, and returns their ids.
func queueHook(t *testing.T, s *Store, webhookID string, dues ...time.Time) []string {
	t.Helper()
	var ids []string
	for len(dues) > 0 {
		var items []store.IngestItem
		for ; len(dues) > 0 && len(items) < 1000; dues = dues[1:] {
			due := dues[0]
			ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 1,
				Payload: []byte(`{}`), ReceivedAt: due}
			d := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: webhookID, CompanyID: 1, EventName: ev.Name,
				Priority: 1, State: store.DeliveryPending, DueAt: due, CreatedAt: due, UpdatedAt: due}
			ids = append(ids, d.ID)
			items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
		}
		if _, err := s.Ingest(context.Background(), nil, items); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func dueSeries(from time.Time, n int, step time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.Add(time.Duration(i) * step)
	}
	return out
}

// blockSet is a claim filter refusing the webhooks set in it; quota, when
// set, admits that many more deliveries of a webhook before blocking it.
type blockSet struct {
	blocked map[string]bool
	quota   map[string]int
}

func (b *blockSet) filter() store.ClaimFilter {
	return store.ClaimFilter{
		Admit: func(d *store.Delivery) bool {
			if b.quota[d.WebhookID] > 0 {
				b.quota[d.WebhookID]--
				return true
			}
			return !b.blocked[d.WebhookID]
		},
		Blocked: func(id string) bool { return b.blocked[id] && b.quota[id] == 0 },
	}
}

// claimCounting claims and returns how many queue keys the scan visited.
func claimCounting(t *testing.T, s *Store, now time.Time, limit int, f store.ClaimFilter) ([]*store.Delivery, uint64) {
	t.Helper()
	s.claims.mu.Lock()
	before := s.claims.iterated
	s.claims.mu.Unlock()
	got, err := s.ClaimDueFunc(context.Background(), 1, now, limit, f)
	if err != nil {
		t.Fatal(err)
	}
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	return got, s.claims.iterated - before
}

// TestBadgerClaimSkipsBlockedRun: a blocked webhook's backlog ahead of
// other deliveries is walked once, then skipped in one seek; a key enqueued
// inside it is still claimed; admitting the webhook one delivery at a time
// hands them out in due order, each claim still skipping the rest.
func TestBadgerClaimSkipsBlockedRun(t *testing.T) {
	s := openRunsStore(t, false)
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	now := base.Add(time.Hour)
	const backlog = 5000
	aIDs := queueHook(t, s, "A", dueSeries(base, backlog, time.Microsecond)...)
	bIDs := queueHook(t, s, "B", dueSeries(base.Add(time.Minute), 5, time.Second)...)
	bs := &blockSet{blocked: map[string]bool{"A": true}, quota: map[string]int{}}
	f := bs.filter()

	// (1) B's deliveries are claimed, behind A's backlog; the first claims
	// read A's deliveries in bounded steps.
	var gotB []string
	var firstScan uint64
	for i := 0; len(gotB) < len(bIDs); i++ {
		if i == 5 {
			t.Fatalf("after 5 claims: %d of B's deliveries claimed, want %d", len(gotB), len(bIDs))
		}
		got, n := claimCounting(t, s, now, 10, f)
		if i == 0 {
			firstScan = n
		}
		for _, d := range got {
			if d.WebhookID != "B" {
				t.Fatalf("claimed %s's delivery while it is blocked", d.WebhookID)
			}
			gotB = append(gotB, d.ID)
		}
	}
	if !slices.Equal(gotB, bIDs) {
		t.Fatalf("B claimed out of due order")
	}
	if firstScan < maxSkipPerClaim {
		t.Fatalf("first claim visited %d keys, want at least %d", firstScan, maxSkipPerClaim)
	}
	// (2) Later claims skip the backlog: a few keys, not 5,000.
	for i := range 5 {
		got, n := claimCounting(t, s, now, 10, f)
		if len(got) != 0 || n > 10 {
			t.Fatalf("claim %d past the backlog: %d deliveries, visited %d keys; want 0 and at most 10", i, len(got), n)
		}
	}
	more := queueHook(t, s, "B", now.Add(-time.Second)) // due after the backlog
	if got, n := claimCounting(t, s, now, 10, f); len(got) != 1 || got[0].ID != more[0] || n > 10 {
		t.Fatalf("new B delivery: %d claimed, visited %d keys; want it, visiting at most 10", len(got), n)
	}

	// (4) A key enqueued inside the run (due in the past) is claimed.
	inside := queueHook(t, s, "C", base.Add(2500*time.Microsecond+500))
	if got, _ := claimCounting(t, s, now, 10, f); len(got) != 1 || got[0].ID != inside[0] {
		t.Fatalf("delivery enqueued inside the skipped run: %d claimed, want it", len(got))
	}
	// The backlog is walked again once (bounded), then skipped again.
	for range 3 {
		claimCounting(t, s, now, 10, f)
	}
	if _, n := claimCounting(t, s, now, 10, f); n > 10 {
		t.Fatalf("after the run was rebuilt: visited %d keys, want at most 10", n)
	}

	// A admitted one delivery at a time (a worker of A frees): each claim
	// hands out A's next delivery in due order and skips the rest.
	for i := range 20 {
		bs.quota["A"] = 1
		got, n := claimCounting(t, s, now, 10, f)
		if len(got) != 1 || got[0].ID != aIDs[i] {
			t.Fatalf("A admitted once, claim %d: %d claimed; want A's delivery %d", i, len(got), i)
		}
		if n > 10 {
			t.Fatalf("A admitted once, claim %d: visited %d keys, want at most 10", i, n)
		}
	}

	// (3) Unblocked: A's remaining deliveries are claimed in due order.
	bs.blocked["A"] = false
	var gotA []string
	for range 3 {
		got, _ := claimCounting(t, s, now, backlog, f)
		for _, d := range got {
			gotA = append(gotA, d.ID)
		}
	}
	if !slices.Equal(gotA, aIDs[20:]) {
		t.Fatalf("after unblocking: %d of A's deliveries claimed (in order: %v), want the %d left in due order",
			len(gotA), slices.IsSortedFunc(gotA, func(a, b string) int { return slices.Index(aIDs, a) - slices.Index(aIDs, b) }), backlog-20)
	}
}

// TestBadgerClaimRunsModel: random ingests (some due inside earlier
// backlogs), claims under random blocked sets, recorded attempts (retries
// due in the past or the future) and releases; every claim must hand out
// exactly what a plain walk of the whole queue would: the first `limit`
// unclaimed pending due deliveries of unblocked webhooks, in key order.
func TestBadgerClaimRunsModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { claimRunsModel(t, seed) })
	}
}

func claimRunsModel(t *testing.T, seed uint64) {
	s := openRunsStore(t, false)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	hooks := []string{"A", "B", "C", "D", "E"}
	bs := &blockSet{blocked: map[string]bool{}, quota: map[string]int{}}
	f := bs.filter()
	clock := base.Add(time.Hour)
	claimed := map[string]*store.Delivery{}
	skips, queued := 0, 0
	for step := range 400 {
		clock = clock.Add(time.Duration(rng.IntN(100)) * time.Millisecond)
		switch op := rng.IntN(10); {
		case op < 2 && queued < 3500: // a burst of one webhook, due around now or in the past
			// (under maxSkipPerClaim in all, so no claim stops early)
			from := clock.Add(-time.Duration(rng.IntN(3600)) * time.Second)
			if rng.IntN(2) == 0 {
				from = clock.Add(-time.Duration(rng.IntN(1000)) * time.Millisecond)
			}
			n := 1 + rng.IntN(100)
			queued += n
			queueHook(t, s, hooks[rng.IntN(len(hooks))], dueSeries(from, n, time.Duration(1+rng.IntN(1000))*time.Microsecond)...)
		case op < 4 && len(claimed) > 0: // record some attempts
			for id, d := range claimed {
				if rng.IntN(3) == 0 {
					continue
				}
				next := *d
				next.Attempts++
				a := &store.Attempt{DeliveryID: d.ID, Attempt: next.Attempts, WebhookID: d.WebhookID, CompanyID: 1, CreatedAt: clock}
				switch rng.IntN(3) {
				case 0:
					next.State, a.Outcome = store.DeliverySucceeded, store.OutcomeSuccess
				case 1: // a retry due in the past: inside earlier runs
					next.State, next.DueAt, a.Outcome = store.DeliveryPending, clock.Add(-time.Duration(rng.IntN(3600))*time.Second), store.OutcomeRetry
				default:
					next.State, next.DueAt, a.Outcome = store.DeliveryPending, clock.Add(time.Duration(rng.IntN(2000))*time.Millisecond), store.OutcomeRetry
				}
				if err := s.RecordAttempt(ctx, &next, a); err != nil {
					t.Fatal(err)
				}
				delete(claimed, id)
			}
		case op == 4 && rng.IntN(8) == 0:
			if _, err := s.ReleaseInFlight(ctx, clock); err != nil {
				t.Fatal(err)
			}
			clear(claimed)
		default: // claim under a random blocked set
			for _, h := range hooks {
				bs.blocked[h] = rng.IntN(3) > 0
			}
			limit := 1 + rng.IntN(20)
			now := clock.Add(time.Duration(rng.IntN(1000)-500) * time.Millisecond)
			want := plainClaim(t, s, now, limit, bs)
			got, err := s.ClaimDueFunc(ctx, 1, now, limit, f)
			if err != nil {
				t.Fatal(err)
			}
			gotIDs := make([]string, len(got))
			for i, d := range got {
				gotIDs[i] = d.ID
				claimed[d.ID] = d
			}
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("step %d: claimed %d deliveries %v, a plain walk claims %d: %v", step, len(got), gotIDs, len(want), want)
			}
			skips += len(s.claims.runs[1])
		}
	}
	if skips == 0 {
		t.Fatalf("no run was ever remembered: the test does not exercise runs")
	}
}

// plainClaim is what a claim should return: a walk of the whole queue.
func plainClaim(t *testing.T, s *Store, now time.Time, limit int, bs *blockSet) []string {
	var out []string
	prefix := queuePrefix(1)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			k := it.Item().Key()
			if binary.BigEndian.Uint64(k[len(prefix):]) > timeKey(now) {
				break
			}
			id := string(k[len(prefix)+8:])
			if _, ok := s.claims.ids[id]; ok {
				continue
			}
			d, err := getDelivery(txn, id)
			if err != nil {
				return err
			}
			if d.State == store.DeliveryPending && !bs.blocked[d.WebhookID] {
				out = append(out, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBadgerClaimRunsConcurrent: like TestBadgerClaimSeesEveryDueDelivery,
// behind a blocked backlog, with every new key (ingest and retry) due inside
// it: runs are remembered and dropped while groups commit, and every claim
// must still find a delivery.
func TestBadgerClaimRunsConcurrent(t *testing.T) {
	s := openRunsStore(t, true)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	queueHook(t, s, "A", dueSeries(base, 2000, time.Millisecond)...)
	var mu sync.Mutex // the filter is called with the claim lock held; this guards nothing else
	f := store.ClaimFilter{
		Admit:   func(d *store.Delivery) bool { mu.Lock(); defer mu.Unlock(); return d.WebhookID != "A" },
		Blocked: func(id string) bool { return id == "A" },
	}
	const workers, rounds = 16, 60
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			inside := func() time.Time { return base.Add(time.Duration(rng.IntN(2000))*time.Millisecond + 500) }
			for r := range rounds {
				due := inside()
				ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "x", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: due}
				d := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: "B", CompanyID: 1, EventName: ev.Name,
					Priority: 1, State: store.DeliveryPending, DueAt: due, CreatedAt: due, UpdatedAt: due}
				if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
					t.Error(err)
					return
				}
				got, err := s.ClaimDueFunc(ctx, 1, time.Now().Add(time.Hour), 1, f)
				if err != nil || len(got) != 1 {
					t.Errorf("worker %d round %d: claimed %d, %v; want 1", w, r, len(got), err)
					return
				}
				next := *got[0]
				next.Attempts++
				a := &store.Attempt{DeliveryID: next.ID, Attempt: next.Attempts, WebhookID: "B", CompanyID: 1, CreatedAt: time.Now()}
				if (w+r)%3 == 0 {
					next.State, next.DueAt, a.Outcome = store.DeliveryPending, inside(), store.OutcomeRetry
				} else {
					next.State, a.Outcome = store.DeliverySucceeded, store.OutcomeSuccess
				}
				if err := s.RecordAttempt(ctx, &next, a); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// No B delivery was left behind inside a run built while a group that
	// enqueued it committed.
	for range 2 {
		if _, err := s.ClaimDueFunc(ctx, 1, time.Now().Add(time.Hour), 100_000, f); err != nil {
			t.Fatal(err)
		}
	}
	if left := plainClaim(t, s, time.Now().Add(time.Hour), 100_000, &blockSet{blocked: map[string]bool{"A": true}}); len(left) > 0 {
		t.Fatalf("%d B deliveries due and never claimed", len(left))
	}
}

// TestBadgerClaimRunWhileCommitting: a scan that runs while a group which
// enqueues keys commits (its snapshot may lack them) remembers no run those
// keys may fall in, so once committed they are claimed.
func TestBadgerClaimRunWhileCommitting(t *testing.T) {
	s := openRunsStore(t, false)
	ctx := context.Background()
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	now := base.Add(time.Hour)
	queueHook(t, s, "A", dueSeries(base, 500, time.Microsecond)...)
	f := (&blockSet{blocked: map[string]bool{"A": true}}).filter()
	if got, err := s.ClaimDueFunc(ctx, 1, now, 10, f); err != nil || len(got) != 0 {
		t.Fatalf("claim: %d, %v; want none", len(got), err)
	}
	// A group enqueueing K1 (before the backlog) and K2 (inside it) commits:
	// beginEnqueue, then a scan whose snapshot lacks both, then the commit.
	mk := func(due time.Time) *store.Delivery {
		return &store.Delivery{ID: uuid.NewString(), EventID: uuid.NewString(), WebhookID: "B", CompanyID: 1, EventName: "x",
			Priority: 1, State: store.DeliveryPending, DueAt: due, CreatedAt: due, UpdatedAt: due}
	}
	k1, k2 := mk(base.Add(-time.Second)), mk(base.Add(250*time.Microsecond+500))
	w := s.begin()
	for _, d := range []*store.Delivery{k1, k2} {
		if err := w.transition(nil, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	s.claims.beginEnqueue(w.hint)
	if got, err := s.ClaimDueFunc(ctx, 1, now, 10, f); err != nil || len(got) != 0 {
		t.Fatalf("claim while committing: %d, %v; want none", len(got), err)
	}
	for _, r := range s.claims.runs[1] {
		if r.lastDue >= w.hint[1] {
			t.Fatalf("a run up to %d was remembered while a group enqueueing at %d committed", r.lastDue, w.hint[1])
		}
	}
	err := w.txn.Commit()
	s.claims.committed(w.hint, nil, err == nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDueFunc(ctx, 1, now, 10, f)
	if err != nil || len(got) != 2 || got[0].ID != k1.ID || got[1].ID != k2.ID {
		t.Fatalf("after the commit: %d claimed, %v; want K1 and K2", len(got), err)
	}
}

// TestBadgerClaimRunsMerge: two runs next to each other (a stray key that
// ended the first is gone) merge when skipped; the merged run is skipped
// only while the webhooks of both are blocked.
func TestBadgerClaimRunsMerge(t *testing.T) {
	s := openRunsStore(t, false)
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	now := base.Add(time.Hour)
	queueHook(t, s, "X", dueSeries(base, 40, time.Microsecond)...)
	yIDs := queueHook(t, s, "Y", dueSeries(base.Add(time.Second), 40, time.Microsecond)...)
	stray := queueKey(1, base.Add(time.Second/2), "stray") // a queue key without its delivery
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(stray, nil) }); err != nil {
		t.Fatal(err)
	}
	bs := &blockSet{blocked: map[string]bool{"X": true, "Y": true}}
	f := bs.filter()
	if got, _ := claimCounting(t, s, now, 10, f); len(got) != 0 || len(s.claims.runs[1]) != 2 {
		t.Fatalf("first claim: %d claimed, %d runs; want none and 2 runs (split by the stray key)", len(got), len(s.claims.runs[1]))
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(stray) }); err != nil {
		t.Fatal(err)
	}
	if got, n := claimCounting(t, s, now, 10, f); len(got) != 0 || n != 2 {
		t.Fatalf("second claim: %d claimed, visited %d keys; want none, 2 keys (one seek each)", len(got), n)
	}
	if runs := s.claims.runs[1]; len(runs) != 1 || len(runs[0].hooks) != 2 || runs[0].n != 80 {
		t.Fatalf("after skipping both: %d runs; want them merged into one of X and Y", len(runs))
	}
	if _, n := claimCounting(t, s, now, 10, f); n != 1 {
		t.Fatalf("third claim visited %d keys, want 1 (one seek)", n)
	}
	bs.blocked["Y"] = false
	got, _ := claimCounting(t, s, now, 100, f)
	if len(got) != len(yIDs) {
		t.Fatalf("Y unblocked: %d claimed, want Y's %d", len(got), len(yIDs))
	}
	for i, d := range got {
		if d.ID != yIDs[i] {
			t.Fatalf("Y unblocked: claim %d is %s's, want Y's in due order", i, d.WebhookID)
		}
	}
}
