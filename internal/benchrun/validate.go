package benchrun

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/hookgate/hookgate/config"
)

// Bounds of the options, each named by its `hookgate bench` flag in
// Validate's errors. The upper ones keep a typo from filling the disk or
// the file table: the drain's backlog is written to a temp folder before
// it runs (~1 KB of disk per event at the default payload), each
// connection is a socket of the plain client and of the producers, each
// webhook of the fan-out a block of the gateway's config, and the paced
// run keeps two times per event it publishes.
const (
	MaxEvents      = 10_000_000
	MaxConnections = 10_000
	MaxFanOut      = 10_000
	MaxPacedEvents = 10_000_000
)

// MinPayloadSize is the smallest --payload-size Envelope honours for every
// event number up to MaxEvents: a Field Nation envelope with its required
// members and an empty description. A smaller size would be reported while
// larger envelopes were sent.
var MinPayloadSize = len(Envelope(MaxEvents, 0)) - len(`}}`) + len(`,"description":""}}`) + 1

// MaxPayloadSize is the gateway's default server.body_limit, which the
// bench's config keeps: a larger envelope would be refused with a 413.
var MaxPayloadSize = int(config.Defaults().Server.BodyLimit)

// Validate reports every option out of its range, naming the flag. Zero
// values are checked as given: `hookgate bench --events 0` is an error,
// not the default (Run fills zero values with the defaults first).
func (o Options) Validate() error {
	var errs []error
	between := func(flag string, v, lo, hi int, why string) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("--%s %d: must be from %d to %d%s", flag, v, lo, hi, why))
		}
	}
	between("events", o.Events, 1, MaxEvents, "")
	between("connections", o.Connections, 1, MaxConnections, "")
	between("payload-size", o.PayloadSize, MinPayloadSize, MaxPayloadSize,
		" bytes: a Field Nation envelope with its required members, at most the gateway's server.body_limit")
	between("fanout", o.FanOut, 1, min(MaxFanOut, max(o.Events, 1)), " (and at most --events: each event is delivered to every webhook)")
	switch {
	case o.Rate < 0:
		errs = append(errs, fmt.Errorf("--rate %d: must be 0 (no paced run) or more", o.Rate))
	case o.Rate > 0 && o.Paced <= 0:
		errs = append(errs, fmt.Errorf("--paced %v: must be more than 0 when --rate is set (--rate 0 skips the paced run)", o.Paced))
	case o.Rate > 0:
		if n := o.pacedEvents(); n < 1 || n > MaxPacedEvents {
			errs = append(errs, fmt.Errorf("--rate %d for --paced %v publishes %d events: must be from 1 to %d", o.Rate, o.Paced, n, MaxPacedEvents))
		}
	}
	return errors.Join(errs...)
}

// pacedEvents is how many events the paced run publishes.
func (o Options) pacedEvents() int { return int(float64(o.Rate) * o.Paced.Seconds()) }

// CheckBinary runs path's `version` and refuses anything that does not
// answer as hookgate, before a run spends minutes on the other build.
func CheckBinary(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return fmt.Errorf("%s: not a hookgate executable: %w", path, err)
	}
	if !strings.HasPrefix(string(out), "hookgate ") {
		return fmt.Errorf("%s: not a hookgate executable: `%s version` printed %q", path, path, firstLine(string(out)))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	const most = 80
	if len(s) > most {
		s = s[:most] + "…"
	}
	return s
}
