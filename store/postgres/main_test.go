package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/postgres/pgtest"
	"github.com/hookgate/hookgate/store/storetest"
)

// cluster is the throwaway PostgreSQL of this package's tests.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := pgtest.Start(ctx, pgtest.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start a throwaway PostgreSQL for the postgres store tests:\n%v\n", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

var dsns sync.Map // *testing.T → DSN, so a reopen finds the same database

// dsnFor returns t's database, created on first use.
func dsnFor(t *testing.T) string {
	t.Helper()
	if v, ok := dsns.Load(t); ok {
		return v.(string)
	}
	dsn, err := cluster.NewDatabase(t.Context())
	if err != nil {
		t.Fatalf("new database: %v", err)
	}
	dsns.Store(t, dsn)
	t.Cleanup(func() { dsns.Delete(t) })
	return dsn
}

// openWith opens a store on t's database with the test's manual clock.
func openWith(t *testing.T, o postgres.Options) *postgres.Store {
	t.Helper()
	o.DSN = dsnFor(t)
	o.Clock = storetest.ClockFor(t).Now
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := postgres.Open(t.Context(), o)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openPostgres(t *testing.T) store.Store { return openWith(t, postgres.Options{}) }

// TestPostgresContract runs the same suite as the Badger store.
func TestPostgresContract(t *testing.T) {
	storetest.RunContract(t, openPostgres)
}
