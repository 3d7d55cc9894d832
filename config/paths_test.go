package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelativePathsStartAtTheConfigFolder: storage.path and
// encryption_key_file are read from the config file's folder whatever the
// working directory; absolute paths are kept.
func TestRelativePathsStartAtTheConfigFolder(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "etc")
	os.Mkdir(cfgDir, 0o755)
	p := filepath.Join(cfgDir, "gateway.hcl")
	write := func(src string) {
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir) // the working directory is not the config's folder
	write("")
	cfg, diags := Load(p)
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	if cfg.Storage.Path != filepath.Join(cfgDir, "data") || cfg.Storage.KeyFile() != filepath.Join(cfgDir, "data.key") {
		t.Errorf("default path %q, key file %q; want both in %s", cfg.Storage.Path, cfg.Storage.KeyFile(), cfgDir)
	}
	write("storage {\n  path = \"state/db\"\n  encryption_key_file = \"keys/k\"\n}\n")
	if cfg, _ = Load(p); cfg.Storage.Path != filepath.Join(cfgDir, "state/db") || cfg.Storage.KeyFile() != filepath.Join(cfgDir, "keys/k") {
		t.Errorf("written paths: %q, %q", cfg.Storage.Path, cfg.Storage.KeyFile())
	}
	write("storage {\n  path = \"/srv/hg/data\"\n  encryption_key_file = \"/srv/keys/hg.key\"\n}\n")
	if cfg, _ = Load(p); cfg.Storage.Path != "/srv/hg/data" || cfg.Storage.KeyFile() != "/srv/keys/hg.key" {
		t.Errorf("absolute paths: %q, %q", cfg.Storage.Path, cfg.Storage.KeyFile())
	}
}

// TestDataLeftInTheWorkingDirectory: an install whose data folder (or key
// file) is where relative paths used to start, and absent where they start
// now, is refused with the setting that keeps the old place.
func TestDataLeftInTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "etc")
	os.Mkdir(cfgDir, 0o755)
	p := filepath.Join(cfgDir, "gateway.hcl")
	os.WriteFile(p, []byte("storage {\n  path = \"./data\"\n}\n"), 0o600)
	t.Chdir(dir)
	os.Mkdir(filepath.Join(dir, "data"), 0o700)
	// A folder that is not a Badger database is not the gateway's data (a
	// postgres install's pid folder, a checkout's own "data" folder).
	os.WriteFile(filepath.Join(dir, "data", "fixtures.json"), []byte("{}"), 0o600)
	if _, diags := Load(p); diags.HasErrors() {
		t.Fatalf("an unrelated old folder: %s", FormatDiagnostics(diags))
	}
	os.WriteFile(filepath.Join(dir, "data", "MANIFEST"), []byte("x"), 0o600)
	_, diags := Load(p)
	got := FormatDiagnostics(diags)
	want := p + `:2:3: storage.path "data" now starts at the config file's folder: it resolves to ` + filepath.Join(cfgDir, "data") +
		`, which does not exist, while ` + filepath.Join(dir, "data") + ` (from the working directory, as before) holds data; set storage.path = "` + filepath.Join(dir, "data") + `"`
	if !strings.HasPrefix(got, want) {
		t.Errorf("got  %s\nwant %s...", got, want)
	}
	// Once the data is moved beside the config, it loads; a key file left
	// behind is named the same way.
	if err := os.Rename(filepath.Join(dir, "data"), filepath.Join(cfgDir, "data")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data.key"), []byte("k"), 0o600)
	_, diags = Load(p)
	if got := FormatDiagnostics(diags); !strings.Contains(got, "the storage key file now starts at the config file's folder: "+filepath.Join(cfgDir, "data.key")+" does not exist") {
		t.Errorf("key file left behind: %s", got)
	}
	os.Rename(filepath.Join(dir, "data.key"), filepath.Join(cfgDir, "data.key"))
	if _, diags = Load(p); diags.HasErrors() {
		t.Errorf("after moving both: %s", FormatDiagnostics(diags))
	}
}
