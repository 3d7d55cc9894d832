package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// Dispatcher is the one goroutine that claims due deliveries from the store,
// highest priority first, and the pool of workers that deliver them. It only
// claims as many as there are idle workers, so a claimed delivery starts at
// once and a large backlog stays on disk, not in memory. Which due
// deliveries it may claim is fairness's call (fairness.go).
type Dispatcher struct {
	cfg         config.Delivery
	logMaxBody  int
	queue       Queue
	webhooks    WebhookLookup
	access      SinkAccess
	sinks       Sinks
	transformer *transforms.Transformer
	events      *EventCache
	clock       Clock
	log         *slog.Logger
	metrics     Metrics
	disk        DiskGuard
	policy      retryPolicy
	tracer      trace.Tracer // nil: tracing off (trace.go)

	fair     *fairness
	workers  int
	poll     time.Duration
	linger   time.Duration // claimLinger; tests change it
	wakeCh   chan struct{}
	freedCh  chan struct{}
	work     chan job
	outcomes chan *outcome // to the recorder (recorder.go)
	recDone  chan struct{}
	// sending counts deliveries claimed and not yet handed to the
	// recorder: the workers' budget. unrecorded counts those claimed and
	// not yet recorded (InFlight), which includes them.
	sending    atomic.Int64
	unrecorded atomic.Int64
	// leftIdle is how many of the spare workers (fairness) the last claim
	// left idle: gather waits for a batch beyond them.
	leftIdle atomic.Int64

	claimWG  sync.WaitGroup
	workerWG sync.WaitGroup
	stopOnce sync.Once
	cancel   context.CancelFunc // stops claiming
	abort    context.CancelFunc // cancels attempts still running at the shutdown deadline
}

// New builds a dispatcher from o; Start begins claiming.
func New(o Options) *Dispatcher {
	workers := o.Delivery.Workers
	d := &Dispatcher{
		cfg: o.Delivery, logMaxBody: o.LogMaxBody, queue: o.Queue, webhooks: o.Webhooks, access: o.Access,
		sinks: o.Sinks, transformer: o.Transformer, events: o.Events, clock: o.Clock, log: o.Log,
		metrics: o.Metrics, disk: o.Disk, policy: newRetryPolicy(o.Delivery), tracer: o.Tracer,
		workers: workers, poll: o.Poll, linger: claimLinger, fair: newFairness(o.Delivery, workers),
		wakeCh:  make(chan struct{}, 1),
		freedCh: make(chan struct{}, 1),
		work:    make(chan job, workers),
		// idle keeps what is claimed and not recorded to twice the
		// workers, so a worker never blocks handing its outcome over.
		outcomes: make(chan *outcome, 2*workers),
		recDone:  make(chan struct{}),
	}
	if d.poll <= 0 {
		d.poll = 100 * time.Millisecond
	}
	if d.clock == nil {
		d.clock = wallClock{}
	}
	if d.access == nil {
		d.access = allowAll{}
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.fair.lookup = o.Webhooks
	shared, _ := o.Queue.(store.RateBuckets) // replicas: PostgreSQL's buckets
	d.fair.limits = newThrottle(o.Delivery, o.Webhooks, d.clock, o.SinkLimits, shared, d.log)
	d.fair.limits.holdsEvery = d.poll // another replica's 429 pause holds here from the next poll
	return d
}

// idle is how many deliveries a claim may hand out now: no more than
// there are idle workers, and no more than keep what is claimed and not
// yet recorded within twice the workers. The second bound is what waits
// for the recorder: outcomes hold up to delivery_log.max_body of each
// body, so it is memory, and a recorder that cannot write (a full disk)
// stops the claims.
func (d *Dispatcher) idle() int {
	return max(0, min(d.workers-int(d.sending.Load()), 2*d.workers-int(d.unrecorded.Load())))
}

// InFlight reports how many deliveries are claimed and not yet recorded.
func (d *Dispatcher) InFlight() int64 { return d.unrecorded.Load() }

// Wake tells the claimer that something may be due now (an event was
// accepted, a delivery requeued, the test clock moved).
func (d *Dispatcher) Wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// Start begins claiming and delivering.
func (d *Dispatcher) Start() {
	claimCtx, cancel := context.WithCancel(context.Background())
	workCtx, abort := context.WithCancel(context.Background())
	d.cancel, d.abort = cancel, abort
	for range d.workers {
		d.workerWG.Add(1)
		go d.worker(workCtx)
	}
	go d.recordLoop(workCtx)
	d.claimWG.Add(1)
	go d.claimLoop(claimCtx)
}

// Stop stops claiming, lets running attempts finish and their outcomes be
// written until ctx ends, then cancels the rest. An attempt cut off this
// way is not recorded: it stays in flight on disk and is sent again, with
// the same delivery id, at next start.
// It does nothing when Start was not called.
func (d *Dispatcher) Stop(ctx context.Context) {
	if d.cancel == nil {
		return
	}
	d.stopOnce.Do(func() {
		d.cancel()
		d.claimWG.Wait()
		close(d.work)
		done := make(chan struct{})
		// The workers finish their attempts, then the recorder writes
		// every outcome they handed over.
		go func() { d.workerWG.Wait(); close(d.outcomes); <-d.recDone; close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			d.abort()
			<-done
		}
		d.abort()
	})
}

// claimLinger bounds how long the claimer waits, while most workers are
// busy, for a few more to finish before it claims for the ones already idle.
// Under load workers free up one at a time, and a claim per freed worker
// pays a storage snapshot and a queue walk per delivery; a few hundred
// microseconds of patience lets one claim serve several.
const claimLinger = 500 * time.Microsecond

func (d *Dispatcher) claimLoop(ctx context.Context) {
	defer d.claimWG.Done()
	timer := time.NewTimer(d.poll)
	defer timer.Stop()
	for {
		free := d.idle()
		if n := d.ClaimOnce(ctx); n > 0 && n >= free {
			continue // every idle worker got one, more may be due: claim again before waiting
		}
		// Fewer than the idle workers: the scan found nothing more it may
		// hand out now (the rest is not due, or refused: a company at its
		// share leaves the spare workers idle). Claiming again at once would
		// walk the queue for nothing; a worker finishing, a publish or the
		// poll starts the next claim.
		timer.Reset(d.nextPoll()) // throttle.go: sooner when a rate-limited delivery gets its turn
		select {
		case <-ctx.Done():
			return
		case <-d.wakeCh:
		case <-d.freedCh:
			d.gather(ctx, timer)
		case <-timer.C:
		}
	}
}

// claimShare: a claim under load waits for a quarter of the workers to be
// idle (gather). An eighth made twice the claims, each a storage snapshot
// (which waits for the commits in progress) and a queue walk, while the
// workers it fed idled: a quarter drained +3.5 and +3.3 points of the
// plain client faster on a busy machine (hookgate bench --compare, 3
// rounds each, docs/delivery.md).
const claimShare = 4

// gather waits, at most claimLinger, until a claim's worth of workers
// (claimShare) is idle. It returns at once when many already are,
// which is always the case at low load, so it adds no latency there.
func (d *Dispatcher) gather(ctx context.Context, timer *time.Timer) {
	// A company alone at its share leaves the spare workers idle: counting
	// them, each claim would serve a quarter fewer deliveries.
	batch := max(1, d.workers/claimShare) + int(d.leftIdle.Load())
	if d.idle() >= batch {
		return
	}
	timer.Reset(d.linger) // Go ≥ 1.23 timers: no stale tick to drain
	for d.idle() < batch {
		select {
		case <-ctx.Done():
			return
		case <-d.wakeCh:
			return // something new is due: do not hold it back
		case <-timer.C:
			return
		case <-d.freedCh:
		}
	}
}

// ClaimOnce hands up to the number of idle workers to the pool, priority by
// priority, and returns how many it handed out.
//
// The claim loop calls it; a test calls it to see what one claim does.
func (d *Dispatcher) ClaimOnce(ctx context.Context) int {
	free := d.idle()
	if free <= 0 || ctx.Err() != nil || (d.disk != nil && d.disk.Low()) {
		return 0 // a low disk pauses claims; the guard wakes us when space is back
	}
	d.fair.limits.refill(ctx, free) // throttle_shared.go: tokens of the replicas' buckets
	now := d.clock.Now()
	total := 0
	fc, filtered := d.queue.(store.FilteredClaimer)
	filter := d.fair.pass()
	// admitted are what the filter let through in one claim: when the
	// claim fails, the store hands none of them out, and fairness must
	// take their slots back.
	var admitted []*store.Delivery
	if admit := filter.Admit; admit != nil {
		filter.Admit = func(x *store.Delivery) bool {
			ok := admit(x)
			if ok {
				admitted = append(admitted, x)
			}
			return ok
		}
	}
	for _, p := range events.Priorities {
		if free == 0 {
			break
		}
		var ds []*store.Delivery
		var err error
		admitted = admitted[:0]
		d.fair.limits.claiming()
		if filtered {
			ds, err = fc.ClaimDueFunc(ctx, int(p), now, free, filter)
		} else {
			ds, err = d.queue.ClaimDue(ctx, int(p), now, free)
		}
		if err != nil {
			for _, x := range admitted {
				d.fair.forget(x)
			}
			d.fair.limits.giveBack()
			if ctx.Err() == nil {
				d.log.Error("claim due deliveries", "priority", p.String(), "err", err)
			}
			return total
		}
		evs := d.readEvents(ctx, ds)
		for _, del := range ds {
			d.sending.Add(1)
			d.unrecorded.Add(1)
			d.work <- job{del: del, ev: evs[del.EventID]} // never blocks: the channel holds `workers` items
		}
		free -= len(ds)
		total += len(ds)
	}
	d.leftIdle.Store(int64(min(free, d.fair.spare)))
	return total
}

// job is one claimed delivery for a worker, with its event when the
// claimer read it (readEvents); nil: the worker reads it.
type job struct {
	del *store.Delivery
	ev  *store.Event
}

// readEvents reads the events of a claim's deliveries that the cache does
// not hold, in one store call (one read transaction, one query) instead of
// one per worker: a backlog written before the gateway started, or one
// older than the cache, is all misses. The events are handed to the
// workers with their deliveries, not cached: deliveries of one event are
// usually claimed together. On an error it reads none, and each worker
// reads its own event as before (and records the error if it persists).
func (d *Dispatcher) readEvents(ctx context.Context, ds []*store.Delivery) map[string]*store.Event {
	var ids []string
	for _, del := range ds {
		if !d.events.Has(del.EventID) {
			ids = append(ids, del.EventID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	evs, err := d.queue.GetEvents(ctx, ids)
	if err != nil {
		return nil
	}
	return evs
}

func (d *Dispatcher) worker(ctx context.Context) {
	defer d.workerWG.Done()
	for j := range d.work {
		del := j.del
		// Wall time, not the gateway clock: it measures the receiver.
		started := time.Now()
		o := d.deliver(ctx, del, j.ev)
		if o == nil { // cut off at the shutdown deadline: nothing to record
			d.release(del, time.Since(started))
			d.settle(del)
			continue
		}
		o.took = time.Since(started)
		// Sent, the delivery's worker and its fairness slot are free: the
		// store keeps it claimed until the recorder has written its
		// outcome, so nothing hands it out again meanwhile (recorder.go).
		// Released before the hand-over, so the recorder, which lingers
		// only while deliveries are sending, does not wait for this one's
		// own release; the channel has room for every unrecorded delivery
		// (idle), so the hand-over never blocks.
		d.release(del, o.took)
		d.outcomes <- o
	}
}
