package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/hookgate/hookgate/gateway/ingest"
)

// diskCheckInterval is how often the data folder's free space is read. At
// the fastest ingest measured here (~25,000 events/s, ~25 MB/s) a quarter
// of a second is a few MB, well inside the default headroom
// (storage.min_free_bytes, 64 MiB).
const diskCheckInterval = 250 * time.Millisecond

// diskCheckEveryBytes: after this many bytes of accepted events since the
// last check, a publish reads the free space itself (one statfs, ~1 µs), so
// producers sending large events quickly cannot outrun the timer: 1 MiB
// events at 500/s are 125 MB in one interval, more than the headroom.
const diskCheckEveryBytes = 8 << 20

// diskGuard keeps the gateway's own writes from filling the file system of
// the data folder. Badger writes its logs through mmap, so on a full disk a
// write is a SIGBUS that ends the process, not an error it could answer
// (docs/hostile-input.md). Below storage.min_free_bytes the gateway refuses
// new events (507, nothing accepted) and stops claiming deliveries;
// deliveries already running finish and record their attempts (small
// writes, inside the headroom), reads and the management API go on. It
// resumes once a quarter more than the minimum is free again, so a disk at
// the line does not flap.
type diskGuard struct {
	path    string
	min     uint64
	free    func(path string) (uint64, error) // statfsFree; tests replace it before Start
	log     *slog.Logger
	wake    func() // the dispatcher, when space is back
	low     atomic.Bool
	avail   atomic.Uint64 // bytes free at the last check
	written atomic.Int64  // bytes of events admitted since the last check
	mu      sync.Mutex    // one check at a time
	tick    ticker
}

// newDiskGuard reads the free space once, so a gateway started on a full
// disk refuses from its first request. nil (no guard) when minFree is 0.
func newDiskGuard(path string, minFree int64, log *slog.Logger) *diskGuard {
	if minFree <= 0 {
		return nil
	}
	d := &diskGuard{path: path, min: uint64(minFree), free: statfsFree, log: log}
	d.check()
	return d
}

// statfsFree is the space an unprivileged writer may still use on path's
// file system.
func statfsFree(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	// The fields' types differ between systems (FreeBSD's Bavail is signed).
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// check reads the free space and changes state when it crossed a line.
// A failed read keeps the last state (and says so).
func (d *diskGuard) check() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkLocked()
}

func (d *diskGuard) checkLocked() {
	d.written.Store(0)
	n, err := d.free(d.path)
	if err != nil {
		d.log.Warn("cannot read the free space of the data folder", "path", d.path, "err", err)
		return
	}
	d.avail.Store(n)
	wasLow := d.low.Load()
	switch {
	case !wasLow && n < d.min:
		d.low.Store(true)
		d.log.Error("data folder low on space: refusing new events and pausing deliveries until space is freed",
			"path", d.path, "free_bytes", n, "min_free_bytes", d.min)
	case wasLow && n >= d.min+d.min/4:
		d.low.Store(false)
		d.log.Info("data folder has space again: accepting events and delivering", "path", d.path, "free_bytes", n)
		if d.wake != nil {
			d.wake()
		}
	}
}

// Low reports whether writes are being held back; false without a guard.
func (d *diskGuard) Low() bool { return d != nil && d.low.Load() }

// admit counts an event of n bytes about to be written and reports whether
// it may be: false while the disk is low. Past diskCheckEveryBytes since the
// last check it checks first (unless a check is running already).
func (d *diskGuard) admit(n int) bool {
	if d == nil {
		return true
	}
	d.Note(n)
	return !d.low.Load()
}

// Note counts n bytes the gateway wrote without asking (an attempt record:
// a delivery already running always records its outcome), and checks once
// diskCheckEveryBytes have been written since the last check. Templates can
// make attempt records far larger than the events they come from, so they
// must bring the check forward as events do.
func (d *diskGuard) Note(n int) {
	if d != nil && d.written.Add(int64(n)) >= diskCheckEveryBytes && d.mu.TryLock() {
		d.checkLocked()
		d.mu.Unlock()
	}
}

// start checks every diskCheckInterval until stop; wake is called when
// space comes back.
func (d *diskGuard) start(wake func()) {
	if d == nil {
		return
	}
	d.wake = wake
	d.tick.start(diskCheckInterval, func(context.Context) { d.check() })
}

func (d *diskGuard) stop() {
	if d != nil {
		d.tick.stop()
	}
}

// Admit is admit as ingest's DiskGuard hook: the refusal as an error.
func (d *diskGuard) Admit(n int) error {
	if d.admit(n) {
		return nil
	}
	return d.refusal()
}

// refusal is the answer to a publish while the disk is low (a 507).
func (d *diskGuard) refusal() error {
	return &ingest.QuotaError{Msg: fmt.Sprintf("the gateway's data folder is low on space (%d MiB free, storage.min_free_bytes is %d MiB): "+
		"nothing was accepted; publish again once space is freed", d.avail.Load()>>20, d.min>>20)}
}

// collectors are the guard's series: the free space at the last check and
// whether writes are held back.
func (d *diskGuard) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hookgate_storage_free_bytes",
			Help: "Free space of the data folder's file system at the last check (every 250ms).",
		}, func() float64 { return float64(d.avail.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hookgate_storage_low",
			Help: "1 while free space is below storage.min_free_bytes: publishes get 507 and deliveries pause.",
		}, func() float64 {
			if d.Low() {
				return 1
			}
			return 0
		}),
	}
}
