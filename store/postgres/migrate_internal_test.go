package postgres

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseMigrations(t *testing.T) {
	ms, err := parseMigrations(fstest.MapFS{
		"m/0002_more.sql":  {Data: []byte("B")},
		"m/0001_init.sql":  {Data: []byte("A")},
		"m/README.md":      {Data: []byte("not a migration")},
		"m/0010_later.sql": {Data: []byte("C")},
	}, "m")
	if err != nil || len(ms) != 3 || ms[0].Version != 1 || ms[1].Version != 2 || ms[2].Version != 10 ||
		ms[0].Name != "init" || ms[2].SQL != "C" {
		t.Fatalf("parseMigrations = %+v, %v", ms, err)
	}
	for name, fs := range map[string]fstest.MapFS{
		"no number":    {"m/init.sql": {}},
		"zero":         {"m/0000_x.sql": {}},
		"no name":      {"m/0001.sql": {}},
		"same version": {"m/0001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := parseMigrations(fs, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	embedded, err := Migrations()
	if err != nil || len(embedded) == 0 || !strings.Contains(embedded[0].SQL, "CREATE TABLE deliveries") {
		t.Fatalf("embedded migrations: %d, %v", len(embedded), err)
	}
}
