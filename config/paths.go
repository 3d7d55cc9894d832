package config

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// resolvePaths makes a relative storage.path and storage.encryption_key_file
// start at baseDir, the config file's folder, as file() paths do: the
// gateway, `hookgate reload` and `hookgate secret` then find the same data
// folder (and the pid file and control socket in it) from any working
// directory. baseDir "" leaves them relative to the working directory.
//
// Before this, relative paths started at the working directory. An install
// that still has its data there, and none at the new place, is refused with
// the path to write instead of silently starting on an empty data folder
// (and a new key that cannot open the old secrets).
func (d *decoder) resolvePaths(cfg *Config, baseDir string) {
	if baseDir == "" {
		return
	}
	s := &cfg.Storage
	file := hcl.Range{Filename: cfg.File}
	if s.Path != "" && !filepath.IsAbs(s.Path) {
		old := filepath.Clean(s.Path)
		s.Path = filepath.Join(baseDir, s.Path)
		if movedAway(s.Path, old, true) {
			d.errorf(d.rangeOf("storage.path", file), fmt.Sprintf("storage.path %q now starts at the config file's folder", old),
				"it resolves to %s, which does not exist, while %s (from the working directory, as before) holds data; "+
					"set storage.path = %q to keep it there, or move it (README, \"Upgrading\")", s.Path, abs(old), abs(old))
			return
		}
		if s.EncryptionKeyFile == "" && s.EncryptionKey == "" && movedAway(s.Path+".key", old+".key", false) {
			d.errorf(d.rangeOf("storage.path", file), "the storage key file now starts at the config file's folder",
				"%s does not exist, while %s (from the working directory, as before) does; set encryption_key_file = %q "+
					"to keep it there, or move it beside the data folder (README, \"Upgrading\")", s.Path+".key", abs(old+".key"), abs(old+".key"))
		}
	}
	if s.EncryptionKeyFile != "" && !filepath.IsAbs(s.EncryptionKeyFile) {
		old := filepath.Clean(s.EncryptionKeyFile)
		s.EncryptionKeyFile = filepath.Join(baseDir, s.EncryptionKeyFile)
		if s.EncryptionKey == "" && movedAway(s.EncryptionKeyFile, old, false) {
			d.errorf(d.rangeOf("storage.encryption_key_file", file), fmt.Sprintf("storage.encryption_key_file %q now starts at the config file's folder", old),
				"it resolves to %s, which does not exist, while %s (from the working directory, as before) does; "+
					"write the absolute path to keep it there, or move it (README, \"Upgrading\")", s.EncryptionKeyFile, abs(old))
		}
	}
}

// movedAway reports whether resolved is missing while old, the same
// setting read from the working directory, is another place that holds
// what the setting names: for the data folder, a Badger database (its
// MANIFEST), so that an unrelated "data" folder where `hookgate validate`
// runs (a CI checkout) is not mistaken for one; for a key file, a file.
func movedAway(resolved, old string, dataDir bool) bool {
	if abs(resolved) == abs(old) {
		return false
	}
	if _, err := os.Stat(resolved); !os.IsNotExist(err) {
		return false
	}
	if dataDir {
		old = filepath.Join(old, badgerManifest)
	}
	st, err := os.Stat(old)
	return err == nil && st.Mode().IsRegular()
}

// badgerManifest is the file every Badger database folder holds.
const badgerManifest = "MANIFEST"

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
