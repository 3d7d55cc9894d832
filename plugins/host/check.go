package host

import (
	"context"
	"fmt"
)

// SinkError is a sink that could not be started or configured; Start and
// Check return it. Its text is `sink "snow": <reason>`; callers that know
// where the sink was declared (the config file's line) find the name in
// Sink to point at it.
type SinkError struct {
	Sink string // the sink's name (Spec.Name)
	Err  error
}

func (e *SinkError) Error() string { return fmt.Sprintf("sink %q: %v", e.Sink, e.Err) }

// Unwrap returns the reason.
func (e *SinkError) Unwrap() error { return e.Err }

// Check runs the sink's own validation without keeping it: it starts the
// process (verifying the handshake and any pinned SHA-256), calls Configure
// with the settings and opts' network policy, and stops it again. This is
// what `hookgate validate` uses, so a config is judged by the very code that
// will run it. The error is a *SinkError.
func Check(ctx context.Context, opts Options, spec Spec) error {
	if err := validateSpecs([]Spec{spec}); err != nil {
		return err
	}
	opts.setDefaults()
	p, err := launch(ctx, spec, &opts, opts.Logger.With("sink", spec.Name))
	if err != nil {
		return &SinkError{Sink: spec.Name, Err: err}
	}
	p.fail(errHostClosed)
	p.shutdown()
	return nil
}
