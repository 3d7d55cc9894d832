package sdktest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/plugins/sdk"
)

// Suite describes a sink and a fake of its service for Conformance.
type Suite struct {
	// Sink is the name the sink is registered under in ServeIfChild, which
	// the test package's TestMain must call.
	Sink string
	// Fake starts a fake of the sink's service for the whole suite; stop it
	// with t.Cleanup.
	Fake func(t *testing.T) *Fake
	// Timeout is the delivery timeout used by the deadline test; default 1s.
	Timeout time.Duration
	// NoExternalRef says the service returns no record id (a plain HTTP
	// receiver), so a success without an ExternalRef is correct. Sinks that
	// create or update a record must leave it false.
	NoExternalRef bool
}

// Fake is a running fake service and the controls the suite needs.
type Fake struct {
	// Settings configure the sink against the fake (the config = { ... }).
	Settings map[string]string
	// Secrets are credential values the sink must never echo: in a
	// Result's Error, Body or Headers, in a Configure error, or in its logs.
	Secrets []string
	// Request returns a delivery the fake accepts (Timeout is set by the
	// suite). It is called once per delivery.
	Request func() *sdk.Request
	// Check, when set, asserts what the fake received for a successful
	// delivery.
	Check func(t *testing.T, res *sdk.Result)
	// FailRetryable makes the fake answer the next delivery with a failure
	// the sink must classify as retryable (a 503, a 429, a lock timeout...).
	FailRetryable func()
	// FailFinal makes the fake answer the next delivery with a failure the
	// sink must classify as final (a 400 field error, a 403...).
	FailFinal func()
	// Stall makes the fake stop answering until release is called.
	Stall func() (release func())
	// BadSettings are configurations the sink must reject at Configure,
	// each with a fragment the error must contain (the setting's name).
	BadSettings []BadConfig
}

// BadConfig is a configuration that must be rejected.
type BadConfig struct {
	Settings map[string]string
	Want     string // a substring of the error, e.g. `instance_url: must be an https URL`
}

// grace is how long past its Timeout a stalled delivery may take to come
// back: the sink's own cleanup plus the plugin round trip.
const grace = 3 * time.Second

// Conformance runs the sink over a real go-plugin connection (a subprocess
// started with Command) against the fake and checks what every sink must
// do: deliver and return an external reference, classify retryable and
// final failures, honour the deadline, reject bad settings with a message
// naming them, and never echo a credential. The network policy allows
// plain http and loopback, where fakes live.
//
//	func TestConformance(t *testing.T) {
//		sdktest.Conformance(t, sdktest.Suite{Sink: "teams", Fake: startFake})
//	}
func Conformance(t *testing.T, s Suite) {
	t.Helper()
	if s.Timeout <= 0 {
		s.Timeout = time.Second
	}
	f := s.Fake(t)
	logs := &syncBuffer{}
	opts := host.Options{
		BuiltinCommand: Command, AllowHTTP: true, AllowPrivateNetworks: true,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// Batching with a linger (delivery.sink_batch_linger), so that
		// path is checked too: it must not hold a lone delivery back.
		BatchMax: 64, BatchLinger: 200 * time.Microsecond,
	}
	h := startConformanceHost(t, s, f, opts, sdk.ProtocolV3)
	c := &conformance{s: s, f: f, h: h}
	t.Run("delivers", c.delivers)
	t.Run("retryable", c.retryable)
	t.Run("final", c.final)
	t.Run("deadline", c.deadline)
	t.Run("bad_config", func(t *testing.T) { c.badConfig(t, opts) })
	t.Run("recovers", c.delivers) // a failure leaves no state behind
	// The same sink as if built with an SDK that speaks only protocol 2:
	// the host must still deliver through it.
	t.Run("protocol_2", func(t *testing.T) {
		old := opts
		old.BuiltinCommand = CommandProtocol(sdk.ProtocolV2)
		c := &conformance{s: s, f: f, h: startConformanceHost(t, s, f, old, sdk.ProtocolV2)}
		t.Run("delivers", c.delivers)
		t.Run("retryable", c.retryable)
	})
	t.Run("no_secrets_in_logs", func(t *testing.T) {
		_ = h.Close() // flush the sink's stderr into the log
		noSecret(t, "the sink's log", logs.String(), f.Secrets)
	})
}

// startConformanceHost starts the sink under test with the fake's
// settings and checks which contract version the handshake settled on.
func startConformanceHost(t *testing.T, s Suite, f *Fake, opts host.Options, protocol int) *host.Host {
	t.Helper()
	h := host.New(opts)
	t.Cleanup(func() { _ = h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx, []host.Spec{{Name: "conformance", Type: s.Sink, Settings: f.Settings}}); err != nil {
		t.Fatalf("starting sink %q with the fake's settings: %v", s.Sink, err)
	}
	if st := h.Status(); len(st) != 1 || st[0].Protocol != protocol {
		t.Fatalf("the handshake settled on %+v; want protocol %d", st, protocol)
	}
	return h
}

type conformance struct {
	s Suite
	f *Fake
	h *host.Host
}

func (c *conformance) deliver(t *testing.T, timeout time.Duration) (*sdk.Result, time.Duration) {
	t.Helper()
	req := c.f.Request()
	req.Timeout = timeout
	if req.ID == "" {
		req.ID = "0190c8a2-0000-7000-8000-000000000001:1"
	}
	start := time.Now()
	res, err := c.h.Deliver(context.Background(), "conformance", req)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	took := time.Since(start)
	noSecret(t, "Result.Error", res.Error, c.f.Secrets)
	noSecret(t, "Result.Body", string(res.Body), c.f.Secrets)
	for k, v := range res.Headers {
		noSecret(t, "Result.Headers["+k+"]", v, c.f.Secrets)
	}
	return res, took
}

func (c *conformance) delivers(t *testing.T) {
	res, _ := c.deliver(t, 10*time.Second)
	if !res.OK() {
		t.Fatalf("delivery failed: status %d, error %q", res.Status, res.Error)
	}
	if res.ExternalRef == "" && !c.s.NoExternalRef {
		t.Errorf("a successful delivery returned no ExternalRef (status %d)", res.Status)
	}
	if c.f.Check != nil {
		c.f.Check(t, res)
	}
}

func (c *conformance) retryable(t *testing.T) {
	c.f.FailRetryable()
	res, _ := c.deliver(t, 10*time.Second)
	if res.OK() || !res.Retryable || res.Error == "" {
		t.Fatalf("want a retryable failure with an error, got status %d retryable %v error %q", res.Status, res.Retryable, res.Error)
	}
}

func (c *conformance) final(t *testing.T) {
	c.f.FailFinal()
	res, _ := c.deliver(t, 10*time.Second)
	if res.OK() || res.Retryable || res.Error == "" {
		t.Fatalf("want a final failure with an error, got status %d retryable %v error %q", res.Status, res.Retryable, res.Error)
	}
}

func (c *conformance) deadline(t *testing.T) {
	release := c.f.Stall()
	defer release()
	res, took := c.deliver(t, c.s.Timeout)
	if res.OK() || !res.Retryable {
		t.Fatalf("a stalled service must give a retryable failure, got status %d retryable %v error %q", res.Status, res.Retryable, res.Error)
	}
	if took > c.s.Timeout+grace {
		t.Fatalf("the delivery took %s; the deadline was %s (+%s grace)", took, c.s.Timeout, grace)
	}
}

func (c *conformance) badConfig(t *testing.T, opts host.Options) {
	if len(c.f.BadSettings) == 0 {
		t.Fatal("the suite needs at least one bad configuration the sink rejects")
	}
	for i, bad := range c.f.BadSettings {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := host.Check(ctx, opts, host.Spec{Name: fmt.Sprintf("bad%d", i), Type: c.s.Sink, Settings: bad.Settings})
		cancel()
		if err == nil {
			t.Errorf("settings %s were accepted; want an error containing %q", keys(bad.Settings), bad.Want)
			continue
		}
		noSecret(t, "the Configure error", err.Error(), c.f.Secrets)
		if !strings.Contains(err.Error(), bad.Want) {
			// Not quoted: the message may hold the very secret reported above.
			t.Errorf("settings %s: the error does not contain %q", keys(bad.Settings), bad.Want)
		}
	}
}

// noSecret fails the test when text contains one of the secrets.
func noSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a credential (a %d-character secret of the fake)", where, len(s))
		}
	}
}

func keys(m map[string]string) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return "{" + strings.Join(ks, ", ") + "}"
}

// syncBuffer collects log output from the host's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
