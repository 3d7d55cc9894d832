package gatewaytest

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// LiveHeap is the heap still in use after a full collection: what a test
// holds, not the garbage it made on the way.
func LiveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// PaddedEnvelope is the seed envelope with a workorder field that brings it
// to about size bytes.
func PaddedEnvelope(t testing.TB, event string, size int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(Seed(t, event), &m); err != nil {
		t.Fatal(err)
	}
	m["workorder"].(map[string]any)["notes"] = strings.Repeat("n", size)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// HeapPeak runs f and returns how far the heap rose above the live heap
// before it, sampled every millisecond while f runs. The collector runs
// at GOGC 10 meanwhile, so garbage does not pass for what f holds.
func HeapPeak(f func()) int64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	base := LiveHeap()
	var peak int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, int64(m.HeapAlloc))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak - base
}
