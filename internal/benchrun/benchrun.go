// Package benchrun is `hookgate bench`: the benchmark a user runs on their
// own machine, like pgbench or redis-benchmark. It starts a loopback
// receiver, measures a plain Go HTTP client against it, then the real
// gateway — the hookgate binary as a subprocess with its http sink
// subprocess, a temp data folder and a webhook with a small JSONata
// template — and reports deliveries/s, the ratio to the plain client, the
// CPU each process spends per delivery and the latency at a paced rate.
// The end-to-end Go benchmarks of cmd/hookgate share its parts.
package benchrun

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/internal/procstat"
)

// Options say what to run. Zero values take the defaults of `hookgate bench`.
type Options struct {
	Binary      string        // the hookgate executable run as `serve` (and, by it, `sink http`)
	Events      int           // deliveries in the plain, drain and publish runs
	Connections int           // concurrent connections of the plain client and of the producers
	PayloadSize int           // bytes of each published envelope
	FanOut      int           // webhooks subscribed to each event in the publish run
	Rate        int           // events/s of the paced latency run; 0 skips it
	Paced       time.Duration // how long the paced run publishes
	Progress    io.Writer     // where the progress line is rewritten; nil: none
	// Delivery holds extra attributes for the gateway's delivery block
	// (HCL, such as `workers = 128`), to measure other settings.
	Delivery string
}

// Defaults of `hookgate bench`.
const (
	DefaultEvents      = 40000
	DefaultConnections = 50
	DefaultPayloadSize = 512
	DefaultFanOut      = 1
	DefaultRate        = 1000
	// DefaultPaced is long enough to take in Badger's periodic work: at
	// 1,000 events/s a memtable fills about every 16 s, and its rotation
	// and flush are where the tail latency comes from (docs/storage.md,
	// MemTableSize). A 5 s run missed them more often than not and
	// printed a p99 that a steady minute does not keep.
	DefaultPaced = 30 * time.Second
	// DefaultRounds of --compare: the fewest that give a range.
	DefaultRounds = 3
)

func (o *Options) fill() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Events, DefaultEvents)
	def(&o.Connections, DefaultConnections)
	def(&o.PayloadSize, DefaultPayloadSize)
	def(&o.FanOut, DefaultFanOut)
	if o.Rate < 0 {
		o.Rate = 0
	}
	if o.Paced <= 0 {
		o.Paced = DefaultPaced
	}
}

// Report is what one run measured. CPU figures are µs of user+system time
// per delivery (per request for the plain client), read from /proc.
type Report struct {
	Machine Machine `json:"machine"`
	Options struct {
		Events      int     `json:"events"`
		Connections int     `json:"connections"`
		PayloadSize int     `json:"payloadSize"`
		Delivery    string  `json:"delivery,omitempty"`
		FanOut      int     `json:"fanOut"`
		Rate        int     `json:"rate"`
		PacedSec    float64 `json:"pacedSeconds"`
	} `json:"options"`
	Plain   Plain    `json:"plain"`
	Drain   Delivery `json:"drain"`
	Publish Delivery `json:"publish"`
	Latency *Latency `json:"latency,omitempty"`
}

// Machine is where the run happened.
type Machine struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Go   string `json:"go"`
}

// Plain is the plain Go client against the same receiver.
type Plain struct {
	RequestsPerSec float64 `json:"requestsPerSec"`
	// CPU of this process (client and receiver together) per request.
	CPUMicros float64 `json:"cpuMicrosPerRequest"`
	CPUUse    *CPUUse `json:"cpuUse,omitempty"` // nil without /proc/stat
}

// CPUUse is what the machine's CPUs did during a run, from /proc/stat: a run
// that leaves them idle waits somewhere rather than computing, and time
// stolen by the hypervisor is another guest's work, which makes the
// figures of that run less comparable to another's.
type CPUUse struct {
	IdlePercent   float64 `json:"idlePercent"`
	StolenPercent float64 `json:"stolenPercent"`
}

// cpusSince is the machine's CPU use since a; nil where there is no
// /proc/stat to read it from.
func cpusSince(a procstat.Times) *CPUUse {
	b := procstat.Machine()
	if a.Total <= 0 || b.Total <= 0 {
		return nil
	}
	idle, stolen := b.Since(a)
	return &CPUUse{IdlePercent: idle, StolenPercent: stolen}
}

// Delivery is one run of the gateway.
type Delivery struct {
	// Deliveries is how many arrived on the run's clock: all of the publish
	// run's; in the drain, those after the poll that saw its first.
	Deliveries       int     `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveriesPerSec"`
	EventsPerSec     float64 `json:"eventsPerSec,omitempty"` // publish run: events accepted per second
	PercentOfPlain   float64 `json:"percentOfPlain"`
	GatewayCPUMicros float64 `json:"gatewayCpuMicrosPerDelivery"`
	SinkCPUMicros    float64 `json:"sinkCpuMicrosPerDelivery"`
	// This process: the receiver alone in the drain, producers and
	// receiver together in the publish run.
	BenchCPUMicros float64 `json:"benchCpuMicrosPerDelivery"`
	CPUUse         *CPUUse `json:"cpuUse,omitempty"` // nil without /proc/stat
}

// Latency is the paced run: Rate events/s, one webhook each.
type Latency struct {
	Rate           int     `json:"rate"`
	Events         int     `json:"events"`
	AchievedRate   float64 `json:"achievedRate"`
	AcceptedP50ms  float64 `json:"acceptedToReceivedP50ms"`
	AcceptedP99ms  float64 `json:"acceptedToReceivedP99ms"`
	PublishedP50ms float64 `json:"publishedToReceivedP50ms"`
	PublishedP99ms float64 `json:"publishedToReceivedP99ms"`
}

// Run measures the plain client, then the gateway draining a backlog of
// accepted deliveries (the delivery path alone), then the paced latency run
// and the gateway delivering while producers publish over HTTP, each on a
// gateway of its own with an empty data folder.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.fill()
	if o.Binary == "" {
		return nil, fmt.Errorf("benchrun: no hookgate binary to run")
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r := &Report{Machine: Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}}
	r.Options.Events, r.Options.Connections, r.Options.PayloadSize = o.Events, o.Connections, o.PayloadSize
	r.Options.FanOut, r.Options.Rate, r.Options.PacedSec = o.FanOut, o.Rate, o.Paced.Seconds()
	r.Options.Delivery = o.Delivery
	p := newProgress(o.Progress)
	defer p.done()

	rc := NewReceiver(false)
	srv, err := Serve(rc)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "hookgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Plain client.
	p.phase("plain client", int64(o.Events), rc.Count)
	cpu0, m0 := procstat.CPU(os.Getpid()), procstat.Machine()
	rate, failed := PlainRate(ctx, srv.URL+"/hook/0", o.Events, o.Connections, o.PayloadSize)
	if failed > 0 {
		return nil, fmt.Errorf("the plain client: %d of %d requests failed", failed, o.Events)
	}
	r.Plain = Plain{RequestsPerSec: rate, CPUMicros: micros(procstat.CPU(os.Getpid())-cpu0, o.Events), CPUUse: cpusSince(m0)}

	if r.Drain, err = drainRun(ctx, o, p, filepath.Join(dir, "drain"), srv.URL, rc); err != nil {
		return nil, err
	}
	r.Drain.PercentOfPlain = 100 * r.Drain.DeliveriesPerSec / rate

	// The paced run on a gateway of its own: right after the drain, Badger
	// still flushes and compacts the backlog's writes, and the first
	// seconds of the run measured that, not a steady rate (README,
	// "hookgate bench").
	if o.Rate > 0 {
		if r.Latency, err = pacedRun(ctx, o, p, filepath.Join(dir, "paced"), srv.URL, rc); err != nil {
			return nil, err
		}
	}

	// Publish while delivering.
	if r.Publish, err = publishRun(ctx, o, p, filepath.Join(dir, "publish"), srv.URL, rc); err != nil {
		return nil, err
	}
	r.Publish.PercentOfPlain = 100 * r.Publish.DeliveriesPerSec / rate
	return r, ctx.Err()
}

// Config is the gateway config the bench runs: the producer "acme"
// (company 100), hooks webhook blocks named wh0.. posting to receiverURL
// with a small JSONata template, publish quotas off (the bench measures
// what the gateway can take, not one company's quota).
// delivery holds extra attributes of the delivery block.
func Config(listen, dataPath, receiverURL string, hooks int, delivery string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server  { listen = %q }
storage { path = %q }
delivery {
  allow_http = true
  allow_private_networks = true
  %s
}
# A machine loaded enough can stall a render past the default 100 ms, and
# such a delivery fails for good: the bench measures throughput, not this
# safety limit.
transforms { timeout = "5s" }
quotas { publish_rate = 0 }
auth {
  client "acme" {
    secret     = %q
    company_id = 100
    scopes     = ["events:publish"]
  }
}
`, listen, dataPath, delivery, producerSecret)
	for i := range hooks {
		fmt.Fprintf(&b, `webhook "wh%d" {
  company_id = 100
  url        = "%s/hook/%d"
  events     = ["workorder.created"]
  payload_template = <<EOT
%sEOT
}
`, i, receiverURL, i, PayloadTemplate)
	}
	return b.String()
}

// PayloadTemplate is the JSONata template of the bench's webhooks: a
// small reshaping that reads most of an Envelope.
const PayloadTemplate = `{"type": event.name, "at": timestamp, "work_order": {"id": workorder.id, "title": workorder.title,
 "status": workorder.status.name, "company": workorder.company.name, "description": workorder.description}}
`

// producerSecret is the secret of Config's client "acme": 16 characters
// or more, so that the gateway does not warn about it.
const producerSecret = "acme-bench-producer-secret"

// HookNames are the names Config gives n webhooks.
func HookNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("wh%d", i)
	}
	return out
}

func drainRun(ctx context.Context, o Options, p *progress, dir, receiverURL string, rc *Receiver) (Delivery, error) {
	n := o.Events
	p.phase("writing the backlog", 0, nil)
	// Accepted one microsecond apart, oldest first, as a real backlog is.
	at0 := time.Now().Add(-time.Duration(n) * time.Microsecond)
	if err := Prefill(ctx, filepath.Join(dir, "data"), HookNames(1), n, 200, o.PayloadSize, func(k int) (time.Time, time.Time, int) {
		at := at0.Add(time.Duration(k) * time.Microsecond)
		return at, at, 0
	}); err != nil {
		return Delivery{}, fmt.Errorf("writing the backlog: %w", err)
	}
	rc.Reset()
	g, err := startOn(ctx, o, dir, receiverURL, 1)
	if err != nil {
		return Delivery{}, err
	}
	defer g.stop()
	p.phase("gateway, drain", int64(n), rc.Count)
	limit := waitLimit(n)
	if err := rc.WaitCount(ctx, 1, limit); err != nil {
		return Delivery{}, fmt.Errorf("drain: %w; the gateway's log:\n%s", err, g.logs)
	}
	// The clock runs from the first delivery seen to the last, so the
	// gateway's start is not counted; measure counts only what arrives
	// after it starts.
	d, err := measure(ctx, g, rc, n, limit, func() error { return rc.WaitCount(ctx, int64(n), limit) })
	if err != nil {
		return Delivery{}, fmt.Errorf("drain: %w; the gateway's log:\n%s", err, g.logs)
	}
	if d.Deliveries < n/2 {
		return Delivery{}, fmt.Errorf("drain: %d of the %d deliveries arrived before the clock could start (it polls every few milliseconds): too few to measure; run with more --events", n-d.Deliveries, n)
	}
	return d, nil
}

// pacedRun starts a gateway on an empty data folder and measures the
// latency at o.Rate on it.
func pacedRun(ctx context.Context, o Options, p *progress, dir, receiverURL string, rc *Receiver) (*Latency, error) {
	g, err := startOn(ctx, o, dir, receiverURL, 1)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	lat, err := paced(ctx, o, p, g, rc)
	if err != nil {
		return nil, fmt.Errorf("paced run: %w; the gateway's log:\n%s", err, g.logs)
	}
	return lat, nil
}

// startOn starts a gateway on the data folder in dir (created when there
// is none: the paced and publish runs start on an empty one), with hooks
// webhooks.
func startOn(ctx context.Context, o Options, dir, receiverURL string, hooks int) (*gateway, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return startGateway(ctx, o.Binary, dir, Config(addr, filepath.Join(dir, "data"), receiverURL, hooks, o.Delivery), addr)
}

func publishRun(ctx context.Context, o Options, p *progress, dir, receiverURL string, rc *Receiver) (Delivery, error) {
	g, err := startOn(ctx, o, dir, receiverURL, o.FanOut)
	if err != nil {
		return Delivery{}, err
	}
	defer g.stop()
	tok, err := Token(ctx, g.base, "acme", producerSecret)
	if err != nil {
		return Delivery{}, err
	}
	events := max(1, o.Events/o.FanOut)
	total := events * o.FanOut
	rc.Reset()
	p.phase("gateway, publish", int64(total), rc.Count)
	client := NewClient(o.Connections)
	defer client.CloseIdleConnections()
	var refused atomic.Int64
	var published time.Duration
	d, err := measure(ctx, g, rc, total, waitLimit(total), func() error {
		start := time.Now()
		EachConcurrently(ctx, events, o.Connections, func(i int) {
			if st, _, err := Publish(ctx, client, g.base, tok, Envelope(i, o.PayloadSize)); err != nil || st != 202 {
				refused.Add(1)
			}
		})
		published = time.Since(start)
		if n := refused.Load(); n > 0 {
			return fmt.Errorf("%d of %d publishes were refused", n, events)
		}
		return rc.WaitCount(ctx, int64(total), waitLimit(total))
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("publish: %w; the gateway's log:\n%s", err, g.logs)
	}
	d.EventsPerSec = float64(events) / published.Seconds()
	return d, nil
}

// measure runs work (which ends when the receiver's count reaches n) and
// returns the rate and the CPU per delivery of the gateway, its sinks and
// this process, over the deliveries that arrived while it ran: those the
// receiver had counted before are not in its clock or its CPU figures.
func measure(ctx context.Context, g *gateway, rc *Receiver, total int, limit time.Duration, work func() error) (Delivery, error) {
	gw0, sink0 := g.cpu()
	me0, m0 := procstat.CPU(os.Getpid()), procstat.Machine()
	n := total - int(rc.Count())
	start := time.Now()
	if err := work(); err != nil {
		return Delivery{}, err
	}
	if n <= 0 {
		return Delivery{}, fmt.Errorf("all %d deliveries arrived before the clock started", total)
	}
	el := time.Since(start)
	gw1, sink1 := g.cpu()
	me1, cpus := procstat.CPU(os.Getpid()), cpusSince(m0)
	return Delivery{
		Deliveries: n, DeliveriesPerSec: float64(n) / el.Seconds(),
		GatewayCPUMicros: micros(gw1-gw0, n), SinkCPUMicros: micros(sink1-sink0, n), BenchCPUMicros: micros(me1-me0, n),
		CPUUse: cpus,
	}, nil
}

// paced publishes o.Rate events/s for o.Paced to the running gateway g
// (one webhook) and measures, per event, the time from sending the
// publish request and from reading its 202 to the receiver's arrival.
func paced(ctx context.Context, o Options, p *progress, g *gateway, rc *Receiver) (*Latency, error) {
	tok, err := Token(ctx, g.base, "acme", producerSecret)
	if err != nil {
		return nil, err
	}
	rc.Reset()
	rc.StartTiming()
	defer rc.timing.Store(false) // the publish run counts only
	n := o.pacedEvents()
	p.phase(fmt.Sprintf("paced %d/s", o.Rate), int64(n), rc.Count)
	type times struct{ sent, accepted time.Time }
	var mu sync.Mutex
	sent := make(map[string]times, n)
	client := NewClient(o.Connections)
	defer client.CloseIdleConnections()
	sem := make(chan struct{}, o.Connections)
	var wg sync.WaitGroup
	var refused atomic.Int64
	interval := time.Second / time.Duration(o.Rate)
	start := time.Now()
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		// Each publish at its own time on a fixed schedule: a late one
		// does not shift the ones after it.
		if wait := time.Until(start.Add(time.Duration(i-1) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			st, tr, err := Publish(ctx, client, g.base, tok, Envelope(i, o.PayloadSize))
			if err != nil || st != 202 || tr == "" {
				refused.Add(1)
				return
			}
			t1 := time.Now()
			mu.Lock()
			sent[tr] = times{t0, t1}
			mu.Unlock()
		})
	}
	wg.Wait()
	achieved := float64(n) / time.Since(start).Seconds()
	if k := refused.Load(); k > 0 {
		return nil, fmt.Errorf("%d of %d publishes were refused", k, n)
	}
	if err := rc.WaitCount(ctx, int64(n), waitLimit(n)); err != nil {
		return nil, err
	}
	var acc, pub []time.Duration
	for tr, t := range sent {
		if got, ok := rc.Arrival(tr); ok {
			// Delivery may start before the producer reads its 202.
			acc = append(acc, max(0, got.Sub(t.accepted)))
			pub = append(pub, got.Sub(t.sent))
		}
	}
	if len(acc) == 0 {
		return nil, fmt.Errorf("no paced event arrived")
	}
	return &Latency{Rate: o.Rate, Events: len(acc), AchievedRate: achieved,
		AcceptedP50ms: pct(acc, 50), AcceptedP99ms: pct(acc, 99),
		PublishedP50ms: pct(pub, 50), PublishedP99ms: pct(pub, 99)}, nil
}

// waitLimit bounds a wait for n deliveries: generous (200/s) but finite.
func waitLimit(n int) time.Duration {
	return time.Minute + time.Duration(n)*5*time.Millisecond
}

func micros(d time.Duration, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

// pct is the p-th percentile of v in milliseconds (v is sorted in place).
func pct(v []time.Duration, p int) float64 {
	slices.Sort(v)
	return float64(v[min(len(v)-1, len(v)*p/100)].Microseconds()) / 1000
}

// Median of the figures (the upper middle one for an even count).
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o600)
}

var _ http.Handler = (*Receiver)(nil)
