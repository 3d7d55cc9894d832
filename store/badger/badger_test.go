package badger_test

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
	"github.com/hookgate/hookgate/store/storetest"
)

// contractKeys is one fixed keyring, so a reopen finds the key it wrote with.
var contractKeys = func() *secretbox.Keyring {
	k, err := secretbox.New(make([]byte, secretbox.KeySize))
	if err != nil {
		panic(err)
	}
	return k
}()

var dirs sync.Map // *testing.T → data folder, so a reopen finds the same data

// openBadger opens a real on-disk Badger store for t (the same folder on
// every call with the same t) with the test's manual clock.
func openBadger(t *testing.T) store.Store {
	t.Helper()
	dir, loaded := dirs.LoadOrStore(t, t.TempDir())
	if !loaded {
		t.Cleanup(func() { dirs.Delete(t) })
	}
	s, err := badger.Open(badger.Options{
		Path:   dir.(string),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:  storetest.ClockFor(t).Now,
		Keys:   contractKeys, // the contract runs with secrets sealed, as the gateway does
		// and with outcomes synced late, as the gateway's default does
		// (the other tests of the package sync every commit).
		OutcomeSyncDelay: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBadgerContract(t *testing.T) {
	storetest.RunContract(t, openBadger)
}

func TestBadgerInMemoryOpenClose(t *testing.T) {
	s, err := badger.Open(badger.Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
