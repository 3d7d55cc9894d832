//go:build !linux

package badger

import "os"

// syncData is File.Sync where there is no fdatasync (macOS: Go's Sync
// is F_FULLFSYNC there), so that the store builds and keeps its promise on
// a developer's machine too.
func syncData(f *os.File) error { return f.Sync() }
