package badger

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncData writes f's data back without its metadata (fdatasync).
func syncData(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
