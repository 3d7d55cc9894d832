// Package pgtest runs a throwaway PostgreSQL for tests: a temporary cluster
// (initdb) under a temp folder, listening on a loopback port, started and
// stopped by the test itself — never the machine's postgresql service.
//
// It uses Debian's postgresql package (/usr/lib/postgresql/<ver>/bin; `make
// test` installs it when missing). initdb and postgres refuse to run as
// root, so as root the cluster runs as the `postgres` OS user (runuser),
// with the folder handed to it. When PostgreSQL is missing or does not
// start, Start returns an error saying so: tests fail, they do not skip.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store/postgres"
)

// Cluster is one running throwaway PostgreSQL.
type Cluster struct {
	bin  string // folder of initdb, pg_ctl, postgres
	dir  string // temp folder: data/, socket, log
	port int
	user string // OS user running the server; "" = this process's user

	seq      atomic.Int64
	tmplOnce sync.Once
	tmplErr  error
	stopOnce sync.Once
}

// Options tune the cluster.
type Options struct {
	// Durable keeps fsync on (benchmarks). Tests turn it off: they restart
	// stores, not machines, so fsync only costs time.
	Durable bool
}

// FindBin returns the bin folder of the newest installed PostgreSQL.
func FindBin() (string, error) {
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		return "", errors.New("pgtest: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): " +
			"run `make test`, which installs it, or `apt-get update && apt-get install -y postgresql`")
	}
	sort.Slice(ms, func(i, j int) bool { return version(ms[i]) < version(ms[j]) })
	return filepath.Dir(ms[len(ms)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start creates and starts a cluster. Stop removes it.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hookgate-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if err := c.handTo("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	fsync := "off"
	if opts.Durable {
		fsync = "on"
	}
	if out, err := c.run(ctx, "initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// Retry on a port taken between choosing and binding it.
	for try := 0; ; try++ {
		if c.port, err = freePort(); err != nil {
			break
		}
		serverOpts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=%s -c synchronous_commit=%s "+
			"-c full_page_writes=%s -c max_connections=300 -c shared_buffers=128MB",
			c.port, c.dir, fsync, fsync, fsync)
		var out []byte
		out, err = c.run(ctx, "pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-o", serverOpts, "-w", "-t", "60", "start")
		if err == nil {
			break
		}
		logText, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		err = fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, logText)
		if try == 2 || !strings.Contains(string(logText), "in use") {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// handTo makes the temp folder the OS user's, who will run the server.
func (c *Cluster) handTo(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the %q OS user (created by Debian's postgresql package): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return err
	}
	c.user = name
	return nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs a PostgreSQL program, as c.user when set.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.user != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.user, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the connection string of a database in the cluster.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewDatabase creates an empty, migrated database and returns its DSN. It
// copies a template migrated once, which is much faster than migrating
// every database.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	c.tmplOnce.Do(func() { c.tmplErr = c.makeTemplate(ctx) })
	if c.tmplErr != nil {
		return "", c.tmplErr
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.seq.Add(1))
	if err := c.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE hookgate_template"); err != nil {
		return "", err
	}
	return c.DSN(name), nil
}

// NewEmptyDatabase creates a database without schema (for migration tests).
func (c *Cluster) NewEmptyDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("e%d_%d", os.Getpid(), c.seq.Add(1))
	if err := c.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return c.DSN(name), nil
}

func (c *Cluster) makeTemplate(ctx context.Context) error {
	if err := c.exec(ctx, "CREATE DATABASE hookgate_template"); err != nil {
		return err
	}
	s, err := postgres.Open(ctx, postgres.Options{DSN: c.DSN("hookgate_template"), Migrate: true, MaxConns: 2})
	if err != nil {
		return fmt.Errorf("pgtest: migrating the template: %w", err)
	}
	return s.Close()
}

func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop shuts the server down (fast mode) and removes the folder.
func (c *Cluster) Stop() error {
	var err error
	c.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out []byte
		if out, err = c.run(ctx, "pg_ctl", "-D", c.data(), "-m", "fast", "-w", "stop"); err != nil {
			err = fmt.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
		}
		os.RemoveAll(c.dir)
	})
	return err
}
