package gatewaytest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// LogFile is a logger (debug and up) writing to a file of t, and a func
// that reads what the file holds so far. A file, not a buffer: the
// gateway logs from its own goroutines.
func LogFile(t testing.TB) (*slog.Logger, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// NopSinks answers every delivery 200 without a sink process
// (gateway.Options.Sinks).
type NopSinks struct{}

// Deliver answers 200.
func (NopSinks) Deliver(context.Context, string, *sdk.Request) (*sdk.Result, error) {
	return &sdk.Result{Status: 200}, nil
}
