package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// rotatedLogs syncs the memtable logs badger has rotated out.
//
// badger's DB.Sync syncs the value log and only the CURRENT memtable's
// log (its WAL, NNNNN.mem). With SyncWrites that is enough: every commit
// was synced where it was written. Without it (storage.outcome_sync_delay,
// commit.go "Outcomes") writes committed before a memtable rotation sit in
// the previous log, which nothing syncs until badger flushes that memtable
// to a table; a sync after the rotation would make later groups durable
// while those writes are not. So every sync of the committer also syncs
// the logs rotated out since the last one. badger numbers its memtable
// logs one after the other (memtable.go: nextMemFid), so a rotation shows
// as the file after the newest known one: a stat per sync, no directory
// listing. The value log needs nothing: badger syncs a value-log file when
// it moves to the next (logFile.doneWriting truncates, and z.MmapFile's
// Truncate syncs first).
type rotatedLogs struct {
	mu     sync.Mutex // the committer and sequence leases (nextID) sync
	dir    string
	newest int64 // fid of the newest memtable log known; -1: none yet
	// synced counts the rotated-out logs synced (tests).
	synced int
}

const memLogExt = ".mem" // badger's memtable log suffix (memtable.go: memFileExt)

// newRotatedLogs finds the newest memtable log in dir.
func newRotatedLogs(dir string) (*rotatedLogs, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: listing %s: %w", dir, err)
	}
	r := &rotatedLogs{dir: dir, newest: -1}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), memLogExt)
		if !ok {
			continue
		}
		if fid, err := strconv.ParseInt(name, 10, 64); err == nil && fid > r.newest {
			r.newest = fid
		}
	}
	return r, nil
}

func (r *rotatedLogs) path(fid int64) string {
	return filepath.Join(r.dir, fmt.Sprintf("%05d%s", fid, memLogExt))
}

// sync syncs every memtable log that stopped being the newest since the
// last call: no write goes to it any more, so once synced it stays so.
// A log already gone was flushed to a synced table and removed by badger.
func (r *rotatedLogs) sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if _, err := os.Stat(r.path(r.newest + 1)); errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("store: memtable log: %w", err)
		}
		if r.newest >= 0 {
			if err := fdatasync(r.path(r.newest)); err != nil {
				return err
			}
			r.synced++
		}
		r.newest++
	}
}

// fdatasync syncs the file at path; badger writes its logs through a
// shared mapping, whose dirty pages a sync of any descriptor writes back.
func fdatasync(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: memtable log: %w", err)
	}
	err = syncData(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("store: memtable log: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("store: syncing memtable log %s: %w", path, err)
	}
	return nil
}

// syncAll makes everything committed so far durable: with
// outcome_sync_delay the memtable logs badger rotated out since the last
// call (see rotatedLogs), then badger's own sync. Older logs first: what
// a power loss in the middle keeps is still a prefix of what was
// committed (commit.go, "Outcomes").
func (s *Store) syncAll() error {
	if s.logs != nil {
		if err := s.logs.sync(); err != nil {
			return err
		}
	}
	return s.db.Sync()
}
