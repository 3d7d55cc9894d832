package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store/postgres"
)

// migrate applies the PostgreSQL schema migrations the database lacks
// (`serve` does the same on start; this lets an operator do it first,
// e.g. from a deploy job, with a role that may change the schema).
func migrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long (waiting for another replica's migration included)")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 {
		fmt.Fprintln(stderr, "usage: hookgate migrate [--config FILE] [--timeout 5m]")
		return 2
	}
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	if cfg.Storage.Driver != config.DriverPostgres {
		fmt.Fprintf(stdout, "storage.driver is %q: nothing to migrate (Badger needs no schema)\n", cfg.Storage.Driver)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, cfg.Storage.DSN)
	if err != nil {
		fmt.Fprintf(stderr, "hookgate migrate: %v\n", err)
		return 1
	}
	defer pool.Close()
	done, err := postgres.Migrate(ctx, pool)
	for _, v := range done {
		fmt.Fprintf(stdout, "applied migration %04d\n", v)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookgate migrate: %v\n", err)
		return 1
	}
	v, err := postgres.SchemaVersion(ctx, pool)
	if err != nil {
		fmt.Fprintf(stderr, "hookgate migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "schema at version %d (%d applied now)\n", v, len(done))
	return 0
}
