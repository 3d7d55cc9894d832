package storetest

import (
	"time"

	"github.com/hookgate/hookgate/store"
)

// testStoredBytes: the store counts each company's event payload bytes as
// it ingests them (events without deliveries too), not a replayed
// idempotent publish, and the counts survive a reopen. Retention taking
// them off is each driver's own test (the sweeps differ).
func testStoredBytes(e *env) {
	t, now := e.t, e.now()
	if _, ok := e.s.(store.UsageCounter); !ok {
		t.Fatal("the store does not count stored bytes per company (store.UsageCounter)")
	}
	w1, w2 := e.webhook(1, "workorder.created"), e.webhook(2, "workorder.created")
	a, b := e.item("workorder.created", 1, 1, now, w1), e.item("workorder.created", 2, 1, now, w2)
	quiet := e.item("nobody.listens", 3, 1, now) // company 1, no deliveries
	e.ingest(a, quiet)
	e.ingest(b)
	idem := &store.Idempotency{Key: "client\x00key-1", Response: []byte(`{}`), TTL: time.Hour}
	for range 2 { // the replay is answered from the first: nothing more stored
		if _, err := e.s.Ingest(e.ctx, idem, []store.IngestItem{e.item("workorder.created", 4, 1, now, w1)}); err != nil {
			t.Fatal(err)
		}
	}
	replayed := len(e.item("workorder.created", 4, 1, now, w1).Event.Payload) // same length: same name and work order
	want := map[int64]int64{
		1: int64(len(a.Event.Payload) + len(quiet.Event.Payload) + replayed),
		2: int64(len(b.Event.Payload)),
		3: 0,
	}
	check := func(when string) {
		t.Helper()
		for co, n := range want {
			if got, err := e.s.(store.UsageCounter).StoredBytes(e.ctx, co); err != nil || got != n {
				t.Fatalf("%s: StoredBytes(%d) = %d, %v; want %d", when, co, got, err, n)
			}
		}
	}
	check("after ingest")
	e.reopen()
	check("after reopen")
}
