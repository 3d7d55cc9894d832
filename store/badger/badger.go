package badger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
)

// Options configures Open. Zero values take the documented defaults.
type Options struct {
	// Path is the data folder. Required unless InMemory.
	Path string
	// InMemory keeps everything in RAM (tests only: nothing survives Close).
	InMemory bool
	// LogRetention is how long attempt records, events and finished
	// deliveries live (badger TTL). Pending and in-flight deliveries, their
	// events, webhooks, stats, history and meta never expire. Default 30 days.
	LogRetention time.Duration
	// RollupRetention is how long per-minute rollups live (rollups.go).
	// Default store.DefaultRollupRetention (7 days).
	RollupRetention time.Duration
	// GCInterval is how often value-log garbage collection runs. Default 10m.
	GCInterval time.Duration
	// Logger receives badger's warnings and errors and the store's own. Default slog.Default().
	Logger *slog.Logger
	// Clock is the store's source of time (idempotency expiry, CreatedAt
	// defaults). Default time.Now.
	Clock func() time.Time
	// MemTableSize overrides the tuned memtable size (bytes); 0 keeps the default.
	MemTableSize int64
	// Keys seals webhook secrets, custom header values and meta keys at rest
	// (secrets.go), and is checked against the data at open. Nil
	// stores them in plain text, which only tests and tools should do;
	// reading a sealed record without keys fails with ErrNoKey.
	Keys *secretbox.Keyring
	// OutcomeSyncDelay (storage.outcome_sync_delay) is how long an attempt's
	// outcome may stay written but not yet synced to the disk: a write
	// that needs durability (a publish, an API change) syncs it at once
	// and first; otherwise the committer syncs this long after the first
	// unsynced outcome. 0 syncs every group before its callers go on.
	// See commit.go, "Outcomes".
	OutcomeSyncDelay time.Duration
	// CommitDelay (storage.commit_delay) is how long the committer holds a
	// group that must be synced for more writes to join it: one sync for
	// several publishes arriving one at a time. 0 holds none. See
	// commit.go, "Commit delay".
	CommitDelay time.Duration
}

// Defaults for Options.
const (
	DefaultLogRetention = 30 * 24 * time.Hour
	DefaultGCInterval   = 10 * time.Minute
	defaultMemTableSize = 16 << 20
	// valueThreshold: values this long or longer go to the value log
	// (docs/storage.md, "Badger options").
	valueThreshold = 1 << 8
)

// Store is the embedded store.Store. All writes go through one group-commit
// goroutine (see commit.go); reads use badger snapshots directly.
type Store struct {
	db         *badger.DB
	log        *slog.Logger
	now        func() time.Time
	retention  time.Duration
	keys       *secretbox.Keyring // nil: secrets stored in plain text
	sealer     store.Sealer       // keys, or nil without them (a nil *Keyring is not a nil Sealer)
	webhookSeq *badger.Sequence
	historySeq *badger.Sequence

	rollupRetention time.Duration // rollups.go

	// mu guards closed; submitters hold it shared while sending to ops so
	// that Close cannot close the channel under them.
	mu     sync.RWMutex
	closed bool
	ops    chan *op

	depthMu sync.Mutex
	depth   [3]int64 // mirror of the persisted queue counters, read by QueueDepth

	stats statsCache // the webhooks' stats as committed (attempts.go)

	usageMu sync.Mutex
	usage   map[int64]int64 // stored event bytes per company (usage.go)

	// Claims live in memory only (claims.go): a claimed delivery
	// keeps its queue key on disk until its attempt is recorded, so a crash
	// loses no claim to undo and a claim costs no synced write.
	claims claimSet
	// epoch moves after every commit that changed a stored delivery other
	// than by recording a claimed attempt from its claim (Requeue,
	// DeadLetterPending, ReleaseInFlight, a record without a claim). While
	// it stands still, a claim's copy of its record is what is stored.
	epoch atomic.Uint64
	// keyWrites counts the keys committed groups set or deleted: what
	// the benchmarks report per delivery (KeyWrites).
	keyWrites atomic.Uint64
	// syncs counts the committer's own syncs (Syncs).
	syncs atomic.Uint64

	// syncDelay > 0: badger does not sync each commit; the committer
	// does, and may leave outcome groups unsynced this long (commit.go).
	// unsyncedSince is when the first unsynced group committed (zero: none);
	// only the committer touches it.
	syncDelay     time.Duration
	commitDelay   time.Duration // Options.CommitDelay
	unsyncedSince time.Time
	// logs: with syncDelay, the memtable logs every sync covers (wal.go).
	logs *rotatedLogs
	// syncGate is held (write) by the committer from a durable group's
	// commit until its sync, and (read) by a claim while it takes its
	// snapshot: a claim never hands out a delivery of a publish before the
	// publish is durable — with SyncWrites badger itself makes a commit
	// visible only after its sync. Outcome groups do not take it.
	syncGate sync.RWMutex
	// gating: the group being committed takes the gate at its first
	// commit; gateHeld: it has. Only the committer touches them.
	gating, gateHeld bool
	// beforeSync, when set (tests), runs between a durable group's commit
	// and its sync.
	beforeSync func()

	committerDone chan struct{}
	gcStop        chan struct{}
	gcDone        chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (or creates) the store. It starts the group committer and
// the value-log GC goroutine; Close stops both.
func Open(opts Options) (*Store, error) {
	if opts.Path == "" && !opts.InMemory {
		return nil, errors.New("store: badger path is required")
	}
	if opts.LogRetention <= 0 {
		opts.LogRetention = DefaultLogRetention
	}
	if opts.GCInterval <= 0 {
		opts.GCInterval = DefaultGCInterval
	}
	if opts.RollupRetention <= 0 {
		opts.RollupRetention = store.DefaultRollupRetention
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	db, err := badger.Open(badgerOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("store: opening badger at %s: %w", opts.Path, err)
	}
	s := &Store{
		db:            db,
		log:           opts.Logger,
		now:           opts.Clock,
		retention:     opts.LogRetention,
		keys:          opts.Keys,
		ops:           make(chan *op, maxGroupOps),
		syncDelay:     opts.OutcomeSyncDelay,
		commitDelay:   opts.CommitDelay,
		committerDone: make(chan struct{}),
		claims:        newClaimSet(),
		stats:         statsCache{m: make(map[string]store.WebhookStats)},
		gcStop:        make(chan struct{}),
		gcDone:        make(chan struct{}),
	}
	if opts.Keys != nil {
		s.sealer = opts.Keys
	}
	if s.syncDelay > 0 && !opts.InMemory {
		if s.logs, err = newRotatedLogs(opts.Path); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	s.rollupRetention = opts.RollupRetention
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	err = s.migrate()
	if err == nil {
		err = s.checkKeys(opts.Path)
	}
	if err == nil {
		err = s.loadUsage()
	}
	if err == nil {
		err = s.loadLanes()
	}
	if err == nil && s.syncDelay > 0 {
		// Migrations and key checks wrote outside the committer.
		err = s.syncAll()
	}
	if err != nil {
		_ = errors.Join(s.webhookSeq.Release(), s.historySeq.Release(), db.Close())
		return nil, err
	}
	go s.commitLoop()
	go s.gcLoop(opts.GCInterval, opts.InMemory)
	return s, nil
}

// Syncs returns how many times the committer synced badger itself since
// Open: only with Options.OutcomeSyncDelay, when badger does not sync
// each commit (commit.go, "Outcomes").
func (s *Store) Syncs() uint64 { return s.syncs.Load() }

// KeyWrites returns how many keys the store's committed writes have set or
// deleted since Open (the benchmarks' keys per delivery).
func (s *Store) KeyWrites() uint64 { return s.keyWrites.Load() }

// badgerOptions tunes badger for a small machine (2 cores, low idle RSS).
// docs/storage.md explains every choice.
func badgerOptions(o Options) badger.Options {
	mt := o.MemTableSize
	if mt <= 0 {
		mt = defaultMemTableSize
	}
	bo := badger.DefaultOptions(o.Path).
		WithInMemory(o.InMemory).
		WithLogger(slogLogger{o.Logger}).
		// One synced transaction per commit group, or, with a delay for
		// outcomes, the committer syncs when a group needs it (commit.go).
		WithSyncWrites(o.OutcomeSyncDelay <= 0).
		WithMemTableSize(mt).
		WithNumMemtables(3).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithBaseTableSize(4 << 20).
		WithBaseLevelSize(16 << 20).
		WithNumCompactors(2).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(0).
		WithIndexCacheSize(8 << 20).
		WithCompression(options.None).
		WithMetricsEnabled(false).
		WithNumGoroutines(2).
		// The committer is the only writer once Open is done (commit.go),
		// so no two update transactions overlap and nothing can conflict;
		// detecting would cost every transaction, the claims' reads
		// included, badger's read marks and key fingerprints.
		WithDetectConflicts(false)
	if o.InMemory {
		bo.Dir, bo.ValueDir = "", ""
	}
	return bo
}

// init reads the persisted queue counters and leases the id sequences.
func (s *Store) init() error {
	var err error
	if s.webhookSeq, err = s.db.GetSequence(keySeqWebhook, 16); err != nil {
		return fmt.Errorf("store: webhook sequence: %w", err)
	}
	if s.historySeq, err = s.db.GetSequence(keySeqHistory, 64); err != nil {
		return fmt.Errorf("store: history sequence: %w", err)
	}
	return s.db.View(func(txn *badger.Txn) error {
		d, err := readDepth(txn)
		if err != nil {
			return err
		}
		s.depth = d
		return nil
	})
}

// Close flushes pending writes, stops the committer and the GC goroutine,
// and closes badger. Calls after the first return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops) // the committer drains what is queued, then exits
	s.mu.Unlock()
	<-s.committerDone
	close(s.gcStop)
	<-s.gcDone
	errs := []error{s.webhookSeq.Release(), s.historySeq.Release()}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

// eventSweepInterval is how often events whose retention ran out are
// deleted (sweepEvents): retention is counted in hours, so a minute late
// is nothing, and a sweep with nothing to do is one short seek.
const eventSweepInterval = time.Minute

// gcLoop runs value-log GC every interval and the event and held-lane
// sweeps every eventSweepInterval until Close.
func (s *Store) gcLoop(every time.Duration, inMemory bool) {
	defer close(s.gcDone)
	sweep := time.NewTicker(eventSweepInterval)
	defer sweep.Stop()
	var gc <-chan time.Time
	if !inMemory { // an in-memory store has no value log
		t := time.NewTicker(every)
		defer t.Stop()
		gc = t.C
	}
	for {
		select {
		case <-s.gcStop:
			return
		case <-gc:
			s.runValueLogGC()
		case <-sweep.C:
			// After Close the committer refuses the sweep: ErrClosed.
			if _, err := s.sweepEvents(context.Background(), s.now()); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Warn("store: sweeping expired events", "err", err)
			}
			if err := s.sweepHeldLanes(context.Background()); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Warn("store: sweeping held lanes", "err", err)
			}
		}
	}
}

// runValueLogGC rewrites value-log files while each pass reclaims something.
func (s *Store) runValueLogGC() {
	for range 16 { // bounded: a pass is I/O heavy; the next tick continues
		select {
		case <-s.gcStop:
			return
		default:
		}
		err := s.db.RunValueLogGC(0.5)
		if err == nil {
			continue
		}
		if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
			s.log.Warn("store: value-log GC", "err", err)
		}
		return
	}
}

// view runs fn in a read-only snapshot, refusing after Close.
func (s *Store) view(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.db.View(fn)
}

// QueueDepth returns the pending deliveries per priority from memory: the
// counters are persisted with every queue change and loaded at open.
func (s *Store) QueueDepth(ctx context.Context) ([3]int, error) {
	if err := ctx.Err(); err != nil {
		return [3]int{}, err
	}
	s.depthMu.Lock()
	d := [3]int{int(s.depth[0]), int(s.depth[1]), int(s.depth[2])}
	s.depthMu.Unlock()
	// Claimed deliveries keep their queue keys until recorded; they are in
	// flight, not waiting.
	c := s.claims.counts()
	for i := range d {
		d[i] = max(0, d[i]-c[i])
	}
	return d, nil
}

// slogLogger adapts slog to badger.Logger. Info and debug are dropped:
// badger is chatty at info (every compaction) and the gateway logs at warn.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Errorf(f string, a ...any)   { l.l.Error("badger: " + trimNL(fmt.Sprintf(f, a...))) }
func (l slogLogger) Warningf(f string, a ...any) { l.l.Warn("badger: " + trimNL(fmt.Sprintf(f, a...))) }
func (l slogLogger) Infof(string, ...any)        {}
func (l slogLogger) Debugf(string, ...any)       {}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
