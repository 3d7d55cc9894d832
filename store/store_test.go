package store_test

import (
	"testing"

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
