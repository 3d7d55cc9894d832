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
