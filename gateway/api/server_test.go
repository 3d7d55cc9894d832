package api

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNewNamesMissingOptions: an Options struct with parts left out is
// refused with the names of those parts, before anything is built.
func TestNewNamesMissingOptions(t *testing.T) {
	_, err := New(context.Background(), Options{Clock: fixedClock(time.Time{}), Ready: func() bool { return true }})
	if err == nil {
		t.Fatal("New with most Options unset succeeded")
	}
	for _, want := range []string{"Config", "Log", "Store", "Webhooks", "Index", "SinkAccess", "Ingest", "Tokens", "Metrics", "Queued", "Requeue"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	for _, set := range []string{"Clock", "Ready"} {
		if strings.Contains(err.Error(), " "+set) {
			t.Errorf("error %q names %s, which is set", err, set)
		}
	}
}
