package gateway

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// liveHeap is the heap still in use after a full collection: what a test
// holds, not the garbage it made on the way.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// paddedEnvelope is the seed envelope with a workorder field that brings it
// to about size bytes.
func paddedEnvelope(t testing.TB, event string, size int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(seed(t, event), &m); err != nil {
		t.Fatal(err)
	}
	m["workorder"].(map[string]any)["notes"] = strings.Repeat("n", size)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
