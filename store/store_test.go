package store_test

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// TestKeepBodies: bodies are cut to the limit, never inside a UTF-8
// character, and their sizes are what was there before the cut.
func TestKeepBodies(t *testing.T) {
	a := store.Attempt{RequestBody: []byte("aé€b"), ResponseBody: []byte("xyz")} // 1+2+3+1 bytes
	for limit, want := range map[int]string{0: "", 1: "a", 2: "a", 3: "aé", 4: "aé", 5: "aé", 6: "aé€", 7: "aé€b", 9: "aé€b"} {
		c := a
		c.KeepBodies(limit)
		if string(c.RequestBody) != want || c.RequestBodySize != 7 || c.ResponseBodySize != 3 || len(c.ResponseBody) != min(limit, 3) {
			t.Errorf("limit %d: %q (size %d), response %q (size %d); want %q", limit, c.RequestBody, c.RequestBodySize, c.ResponseBody, c.ResponseBodySize, want)
		}
	}
}

// TestDeliveryIDCarriesWhereItIsQueued: NewDeliveryID's id gives back its
// priority and due time in the stores' time-key form (Unix nanoseconds, 0
// for the zero time and any time before 1970); ids of other kinds carry
// nothing; and ids sort by due time.
func TestDeliveryIDCarriesWhereItIsQueued(t *testing.T) {
	cases := []struct {
		due  time.Time
		want uint64
	}{
		{time.Unix(1_765_000_000, 123_456_789), 1_765_000_000_123_456_789},
		{time.Unix(0, 1), 1},
		{time.Time{}, 0},
		{time.Unix(-5, 0), 0},
		{time.Unix(1<<33, 999_999_999), uint64(1<<33)*1e9 + 999_999_999},
	}
	for _, c := range cases {
		for prio := range 3 {
			id := store.NewDeliveryID(prio, c.due)
			p, due, ok := store.QueuedAt(id)
			if !ok || p != prio || due != c.want {
				t.Errorf("QueuedAt(NewDeliveryID(%d, %v)) = %d, %d, %v; want %d, %d, true", prio, c.due, p, due, ok, prio, c.want)
			}
		}
	}
	for _, id := range []string{store.NewID(), "3f1c0f9e-8b9e-4c4e-9d4e-1d2b3c4d5e6f", "not-an-id", ""} {
		if _, _, ok := store.QueuedAt(id); ok {
			t.Errorf("QueuedAt(%q) carries a place", id)
		}
	}
	a, b := store.NewDeliveryID(1, time.Unix(100, 5)), store.NewDeliveryID(0, time.Unix(100, 6))
	if a >= b {
		t.Errorf("ids do not sort by due time: %s !< %s", a, b)
	}
}

// TestAttemptTimes: what a delivery's record keeps of its attempts' times
// (the Badger store finds an attempt's record by id from them).
func TestAttemptTimes(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	has := func(ts store.AttemptTimes, n int, want time.Time) {
		t.Helper()
		if k, ok := ts.Of(n); !ok || k != store.TimeKey(want) {
			t.Errorf("attempt %d: %d, %v; want %d (%+v)", n, k, ok, store.TimeKey(want), ts)
		}
	}
	hasNot := func(ts store.AttemptTimes, n int) {
		t.Helper()
		if k, ok := ts.Of(n); ok {
			t.Errorf("attempt %d: %d; want no time (%+v)", n, k, ts)
		}
	}
	var ts store.AttemptTimes
	hasNot(ts, 1)
	ts = ts.With(1, at(1), 0, 0)
	ts2 := ts.With(2, at(2), 0, 0)
	has(ts2, 1, at(1))
	has(ts2, 2, at(2))
	if len(ts.At) != 1 {
		t.Errorf("With changed its receiver: %+v", ts)
	}
	// Attempt 2 written again replaces it; attempt 1 again drops what followed.
	has(ts2.With(2, at(9), 0, 0), 2, at(9))
	if again := ts2.With(1, at(8), 0, 0); len(again.At) != 1 {
		t.Errorf("attempt 1 again kept %+v", again)
	}
	// A gap: attempts logged without times read as unknown.
	gap := ts.With(4, at(4), 0, 0)
	has(gap, 1, at(1))
	hasNot(gap, 2)
	hasNot(gap, 3)
	has(gap, 4, at(4))
	// The zero time is a time (TimeKey 0), not an unknown one.
	has(store.AttemptTimes{}.With(1, time.Time{}, 0, 0), 1, time.Time{})
	// At most `most` times, the latest; a huge gap allocates only those.
	var many store.AttemptTimes
	for n := 1; n <= 70; n++ {
		many = many.With(n, at(n), 0, 64)
	}
	if len(many.At) != 64 || many.First != 7 {
		t.Errorf("70 attempts kept %d times from %d; want 64 from 7", len(many.At), many.First)
	}
	hasNot(many, 6)
	has(many, 7, at(7))
	has(many, 70, at(70))
	if far := many.With(1<<30, at(71), 0, 64); len(far.At) != 64 || far.First != 1<<30-63 {
		t.Errorf("attempt 2^30 kept %d times from %d", len(far.At), far.First)
	}
	// Times past the retention are dropped; the new one always stays.
	kept := ts2.With(3, at(3), 90*time.Second, 0)
	hasNot(kept, 1)
	has(kept, 2, at(2))
	has(kept, 3, at(3))
	if late := ts2.With(3, at(100), time.Minute, 0); len(late.At) != 1 || late.First != 3 {
		t.Errorf("after the retention: %+v; want attempt 3 alone", late)
	}
}
