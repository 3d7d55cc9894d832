package benchrun

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValidate: each option out of its range is refused by its flag's
// name, all of them at once; zero is refused as given, not taken for the
// default.
func TestValidate(t *testing.T) {
	ok := Options{Events: 1200, Connections: 4, PayloadSize: 900, FanOut: 2, Rate: 200, Paced: 500 * time.Millisecond}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	noPaced := ok
	noPaced.Rate, noPaced.Paced = 0, 0
	if err := noPaced.Validate(); err != nil {
		t.Errorf("--rate 0 (no paced run) refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"no events", func(o *Options) { o.Events = 0 }, []string{"--events 0: must be from 1 to 10000000"}},
		{"too many events", func(o *Options) { o.Events = MaxEvents + 1 }, []string{"--events 10000001"}},
		{"no connections", func(o *Options) { o.Connections = 0 }, []string{"--connections 0"}},
		{"too many connections", func(o *Options) { o.Connections = MaxConnections + 1 }, []string{"--connections 10001"}},
		{"payload below an envelope", func(o *Options) { o.PayloadSize = MinPayloadSize - 1 }, []string{"--payload-size", "required members"}},
		{"payload over the body limit", func(o *Options) { o.PayloadSize = MaxPayloadSize + 1 }, []string{"--payload-size", "server.body_limit"}},
		{"no fan-out", func(o *Options) { o.FanOut = 0 }, []string{"--fanout 0"}},
		{"fan-out past the events", func(o *Options) { o.Events, o.FanOut = 10, 11 }, []string{"--fanout 11: must be from 1 to 10"}},
		{"negative rate", func(o *Options) { o.Rate = -1 }, []string{"--rate -1"}},
		{"no paced time", func(o *Options) { o.Paced = 0 }, []string{"--paced 0s"}},
		{"a paced run of no event", func(o *Options) { o.Rate, o.Paced = 1, 100*time.Millisecond }, []string{"publishes 0 events"}},
		{"a paced run too long", func(o *Options) { o.Rate, o.Paced = 1_000_000, time.Hour }, []string{"publishes 3600000000 events"}},
		{"several at once", func(o *Options) { o.Events, o.Connections = 0, 0 }, []string{"--events 0", "--connections 0"}},
	} {
		o := ok
		c.edit(&o)
		err := o.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestMinPayloadSize: at the smallest size Validate allows, every event
// number's envelope is exactly that size, and a JSON object.
func TestMinPayloadSize(t *testing.T) {
	for _, i := range []int{1, 99, MaxEvents} {
		env := Envelope(i, MinPayloadSize)
		if len(env) != MinPayloadSize || !json.Valid(env) {
			t.Errorf("Envelope(%d, %d): %d bytes, valid JSON %v: %s", i, MinPayloadSize, len(env), json.Valid(env), env)
		}
	}
	if env := Envelope(MaxEvents, MinPayloadSize-1); len(env) == MinPayloadSize-1 {
		t.Errorf("one byte less is honoured too: MinPayloadSize is not the least")
	}
}

// TestCheckBinary: what does not answer `version` as hookgate is refused.
func TestCheckBinary(t *testing.T) {
	ctx := context.Background()
	if err := CheckBinary(ctx, filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "not a hookgate executable") {
		t.Errorf("a missing file: %v", err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("#!/bin/sh\necho other 1.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckBinary(ctx, other); err == nil || !strings.Contains(err.Error(), `printed "other 1.0"`) {
		t.Errorf("another program: %v", err)
	}
	fake := filepath.Join(t.TempDir(), "hookgate")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n[ \"$1\" = version ] && echo hookgate dev\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckBinary(ctx, fake); err != nil {
		t.Errorf("an executable answering as hookgate: %v", err)
	}
}

// TestStartProcessSeesAnExit: a gateway that exits before it is ready (a
// config error) fails the start at once with its exit status, instead of
// the wait running to its limit.
func TestStartProcessSeesAnExit(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 3")
	done := make(chan error, 1)
	go func() { done <- StartProcess(context.Background(), cmd, "http://127.0.0.1:1", time.Hour) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready (exit status 3)") {
			t.Errorf("StartProcess: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("StartProcess still waits for a process that exited")
	}
}
