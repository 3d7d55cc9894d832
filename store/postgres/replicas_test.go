package postgres_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/storetest"
)

// seed writes a webhook and n deliveries due now at priority 1.
func seed(t *testing.T, s store.Store, n int) []string {
	t.Helper()
	now := storetest.ClockFor(t).Now()
	w := &store.Webhook{WebhookID: uuid.NewString(), CompanyID: 1, URL: "https://x.test", Method: "post",
		Status: store.StatusActive, Events: []string{"x"}, Sink: "http", Source: store.SourceAPI}
	if err := s.PutWebhook(t.Context(), w, nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var items []store.IngestItem
	for i := range n {
		ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "x", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: uuid.NewString(), WebhookID: w.WebhookID, CompanyID: 1, EventName: "x", Priority: 1,
			DueAt: now.Add(-time.Duration(i) * time.Millisecond)}
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
		ids = append(ids, d.ID)
	}
	if _, err := s.Ingest(t.Context(), nil, items); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestReplicasClaimNeverTwice: three stores (three replicas) on one
// database claim a backlog side by side; each delivery goes to one.
func TestReplicasClaimNeverTwice(t *testing.T) {
	rs := []*postgres.Store{openPostgres(t).(*postgres.Store), openPostgres(t).(*postgres.Store), openPostgres(t).(*postgres.Store)}
	const n = 600
	seed(t, rs[0], n)
	now := storetest.ClockFor(t).Now()
	storetest.ClaimEachOnce(t, []store.Store{rs[0], rs[1], rs[2]}, 12, 9, now, n)
}

// TestLeaseExpiryHandsOver: a replica that stops without recording keeps
// its claims for the lease; another replica's ReleaseInFlight at start does
// not steal them; after the lease they are claimed again with the same
// uuid and attempt count; the late recording of the first replica is
// logged but does not overwrite the new owner's state.
func TestLeaseExpiryHandsOver(t *testing.T) {
	lease := 1500 * time.Millisecond
	a := openWith(t, postgres.Options{Lease: lease})
	b := openWith(t, postgres.Options{Lease: lease})
	ids := seed(t, a, 3)
	now := storetest.ClockFor(t).Now()
	claimed, err := a.ClaimDue(t.Context(), 1, now, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("a claimed %d, %v", len(claimed), err)
	}
	if n, err := b.ReleaseInFlight(t.Context(), now); err != nil || n != 0 {
		t.Fatalf("b.ReleaseInFlight took %d live claims (%v), want 0", n, err)
	}
	if got, _ := b.ClaimDue(t.Context(), 1, now.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("b claimed %d deliveries under a's live lease", len(got))
	}
	start := time.Now()
	var got []*store.Delivery
	for time.Since(start) < 10*lease && len(got) < 3 {
		time.Sleep(100 * time.Millisecond)
		ds, err := b.ClaimDue(t.Context(), 1, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ds...)
	}
	took := time.Since(start)
	gotIDs := []string{}
	for _, d := range got {
		gotIDs = append(gotIDs, d.ID)
		if d.Attempts != 0 {
			t.Errorf("%s re-claimed with %d attempts, want 0", d.ID, d.Attempts)
		}
	}
	slices.Sort(gotIDs)
	slices.Sort(ids)
	if !slices.Equal(gotIDs, ids) {
		t.Fatalf("b re-claimed %v, want %v", gotIDs, ids)
	}
	if took < lease-200*time.Millisecond {
		t.Fatalf("handed over after %v, before the %v lease ended", took, lease)
	}
	t.Logf("handed over %v after the claim (lease %v)", took, lease)

	// a wakes up and records its stale attempt: logged, state untouched.
	d := *claimed[0]
	d.Attempts, d.State, d.UpdatedAt = 1, store.DeliverySucceeded, now
	if err := a.RecordAttempt(t.Context(), &d, &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 1,
		Outcome: store.OutcomeSuccess, ResponseStatus: 200, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	cur, err := b.GetDelivery(t.Context(), d.ID)
	if err != nil || cur.State != store.DeliveryInFlight || cur.Attempts != 0 {
		t.Fatalf("after a's late record: %+v, %v; want still in flight under b", cur, err)
	}
	if _, err := b.GetAttempt(t.Context(), d.ID, 1); err != nil {
		t.Fatalf("a's late attempt not logged: %v", err)
	}
}

// TestCloseReleasesOwnClaims: a replica shutting down hands its unrecorded
// claims back at once; another replica's are untouched.
func TestCloseReleasesOwnClaims(t *testing.T) {
	a, err := postgres.Open(t.Context(), postgres.Options{DSN: dsnFor(t), Clock: storetest.ClockFor(t).Now})
	if err != nil {
		t.Fatal(err)
	}
	b := openPostgres(t)
	seed(t, b, 4)
	now := storetest.ClockFor(t).Now()
	if ds, _ := a.ClaimDue(t.Context(), 1, now, 2); len(ds) != 2 {
		t.Fatal("a claimed too few")
	}
	if ds, _ := b.ClaimDue(t.Context(), 1, now, 1); len(ds) != 1 {
		t.Fatal("b claimed too few")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if d, _ := b.QueueDepth(t.Context()); d != [3]int{0, 3, 0} {
		t.Fatalf("depth after a closed = %v, want [0 3 0]", d)
	}
}

// TestSharedRateLimit: one bucket across replicas, refilled by time.
func TestSharedRateLimit(t *testing.T) {
	rs := []*postgres.Store{openWith(t, postgres.Options{}), openWith(t, postgres.Options{}), openWith(t, postgres.Options{})}
	now := storetest.ClockFor(t).Now()
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			ok, _, err := rs[i%3].TakeToken(t.Context(), "client:acme", 1, 10, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 10 {
		t.Fatalf("granted %d of 30 concurrent requests across 3 replicas, want the burst of 10", granted.Load())
	}
	ok, left, err := rs[1].TakeToken(t.Context(), "client:acme", 1, 10, now.Add(2500*time.Millisecond))
	if err != nil || !ok || left < 1.49 || left > 1.51 {
		t.Fatalf("after 2.5s: ok %v left %v (%v), want a grant with 2.5-1 = 1.5 left", ok, left, err)
	}
	// A replica whose clock lags cannot refund tokens.
	if ok, _, _ := rs[2].TakeToken(t.Context(), "client:acme", 1, 10, now); !ok {
		t.Fatal("the remaining token was refused")
	}
	if ok, _, _ := rs[0].TakeToken(t.Context(), "client:acme", 1, 10, now.Add(-time.Minute)); ok {
		t.Fatal("a lagging clock got a token from an empty bucket")
	}
}

// TestWithLockExcludes: the advisory lock admits one replica at a time.
func TestWithLockExcludes(t *testing.T) {
	rs := []*postgres.Store{openWith(t, postgres.Options{}), openWith(t, postgres.Options{})}
	storetest.OneHolderAtATime(t, []store.Locker{rs[0], rs[1]}, "reconcile", 6)
}

// TestSweepRetention: old attempts, finished deliveries, their events,
// expired idempotency keys and idle buckets go; open work stays; the swept
// events' bytes come off their company's stored bytes.
func TestSweepRetention(t *testing.T) {
	s := openWith(t, postgres.Options{LogRetention: 24 * time.Hour})
	clock := storetest.ClockFor(t)
	ids := seed(t, s, 3)
	now := clock.Now()
	ds, _ := s.ClaimDue(t.Context(), 1, now, 2)
	for _, d := range ds {
		next := *d
		next.Attempts, next.State, next.UpdatedAt = 1, store.DeliverySucceeded, now
		if err := s.RecordAttempt(t.Context(), &next, &store.Attempt{Attempt: 1, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Ingest(t.Context(), &store.Idempotency{Key: "k", Response: []byte("r"), TTL: time.Hour}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeToken(t.Context(), "ip:1", 1, 5, now); err != nil {
		t.Fatal(err)
	}
	// A bucket held past the sweep (a long 429 pause) is kept though idle.
	if err := s.HoldBucket(t.Context(), "delivery:webhook:w", 0, now, now.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("early sweep removed %d (%v)", n, err)
	}
	if got, err := s.StoredBytes(t.Context(), 1); err != nil || got != 6 {
		t.Fatalf("stored bytes before the sweep: %d (%v), want 6 (three events of {})", got, err)
	}
	clock.Advance(25 * time.Hour)
	n, err := s.Sweep(t.Context())
	// 2 attempts + 2 deliveries + 2 events + 1 key + 1 bucket.
	if err != nil || n != 8 {
		t.Fatalf("sweep removed %d rows (%v), want 8", n, err)
	}
	if got, err := s.StoredBytes(t.Context(), 1); err != nil || got != 2 {
		t.Fatalf("stored bytes after the sweep: %d (%v), want 2 (the open event's {})", got, err)
	}
	if held, err := s.HeldBuckets(t.Context(), "delivery:", clock.Now()); err != nil || len(held) != 1 {
		t.Fatalf("held buckets after the sweep: %v (%v), want the one held for 30 h", held, err)
	}
	var open string
	for _, id := range ids {
		if !slices.ContainsFunc(ds, func(d *store.Delivery) bool { return d.ID == id }) {
			open = id
		}
	}
	d, err := s.GetDelivery(t.Context(), open)
	if err != nil || d.State != store.DeliveryPending {
		t.Fatalf("the pending delivery: %+v, %v", d, err)
	}
	if _, err := s.GetEvent(t.Context(), d.EventID); err != nil {
		t.Fatalf("the pending delivery's event was swept: %v", err)
	}
}

// TestMigrations: versions are ordered and applied once even by replicas
// starting together; a store refuses a database that is behind.
func TestMigrations(t *testing.T) {
	dsn, err := cluster.NewEmptyDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn}); err == nil {
		t.Fatal("Open without Migrate on an empty database succeeded")
	}
	ms, err := postgres.Migrations()
	if err != nil || len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("Migrations = %v, %v", ms, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn, Migrate: true})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	s, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", rows, err, len(ms))
	}
	if v, err := postgres.SchemaVersion(t.Context(), s.Pool()); err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	done, err := postgres.Migrate(t.Context(), s.Pool())
	if err != nil || len(done) != 0 {
		t.Fatalf("a second Migrate applied %v (%v)", done, err)
	}
}

// TestClaimDueFuncSkipsRefused: refused deliveries stay queued in order,
// admitted ones are leased; another replica can claim the refused ones.
func TestClaimDueFuncSkipsRefused(t *testing.T) {
	a, b := openWith(t, postgres.Options{}), openWith(t, postgres.Options{})
	ids := seed(t, a, 10) // due now, now-1ms, ...: claim order is ids reversed
	slices.Reverse(ids)
	now := storetest.ClockFor(t).Now()
	n := 0
	got, err := a.ClaimDueFunc(t.Context(), 1, now, 3, store.ClaimFilter{Admit: func(*store.Delivery) bool { n++; return n%2 == 0 }})
	if err != nil || len(got) != 3 || got[0].ID != ids[1] || got[1].ID != ids[3] || got[2].ID != ids[5] {
		t.Fatalf("ClaimDueFunc = %v, %v; want ids 1, 3, 5 of the queue", len(got), err)
	}
	if d, _ := a.GetDelivery(t.Context(), ids[1]); d.State != store.DeliveryInFlight {
		t.Fatalf("admitted delivery is %s", d.State)
	}
	rest, err := b.ClaimDue(t.Context(), 1, now, 10)
	if err != nil || len(rest) != 7 || rest[0].ID != ids[0] {
		t.Fatalf("b claimed %d (%v), want the 7 refused or unseen, in order", len(rest), err)
	}
}
