package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/store"
)

// The recorder is the one goroutine that writes the workers' outcomes. A
// worker that has its answer hands the outcome over and takes its next
// delivery; the recorder writes every outcome waiting (up to
// delivery.record_batch, waiting at most delivery.record_linger for more)
// with one Queue.RecordAttempts: one group commit, one statement, however
// many workers finished meanwhile. One write per attempt used to cost a
// commit operation, a wake-up and a stats read-modify-write each.
//
// A worker and its fairness slot are free once the outcome is handed
// over: they measure sending, and holding them through the write made the
// workers wait on the recorder's linger and commit (hookgate bench, drain:
// the worker goroutines idle half the time with every slot taken). The
// delivery itself stays claimed in the store until its outcome is
// written, so it is not handed out again meanwhile, and an ordered lane
// keeps waiting. What waits for the write is bounded: the claimer keeps
// the deliveries claimed and not recorded within twice the workers
// (Dispatcher.idle), so a recorder that cannot write stops the claims,
// and each company's within twice its limit (fairness.atLimit), so one
// company's outcomes cannot take that room from another's. A crash before
// the write means the attempt is sent again, with the same delivery id,
// at the next start, as before.

// outcome is one finished attempt on its way to the store.
type outcome struct {
	claimed *store.Delivery // as claimed
	rec     store.AttemptRecord
	dec     decision
	status  int
	err     string
	took    time.Duration // the attempt's sending time (fairness' slow-webhook measure)
	sink    time.Duration // the sink's own duration (metrics)
}

// recordLoop writes outcomes until the workers are done and in is closed.
// ctx ends only at the shutdown deadline: outcomes not written by then stay
// claimed and are sent again at the next start.
func (dp *Dispatcher) recordLoop(ctx context.Context) {
	defer close(dp.recDone)
	limit := max(1, dp.cfg.RecordBatch)
	batch := make([]*outcome, 0, limit)
	recs := make([]store.AttemptRecord, 0, limit)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for o := range dp.outcomes {
		batch = dp.gatherOutcomes(append(batch[:0], o), limit, timer)
		recs = recs[:0]
		for _, o := range batch {
			recs = append(recs, o.rec)
		}
		err := dp.writeDurably(ctx, recs)
		for i, o := range batch {
			if err == nil {
				o.rec.Err = recs[i].Err
			} else {
				o.rec.Err = err
			}
			dp.recorded(o)
			batch[i] = nil // not pinning the bodies until the next batch
		}
	}
}

// gatherOutcomes adds the outcomes waiting, up to limit; with a linger it
// waits that long at most for the outcomes of the other deliveries in
// flight, and not at all when there are none: a delivery alone (one
// ordered lane's head, a quiet hour) is written at once.
//
// Why wait: each write costs a group commit whose syncs (and, in Badger,
// the write-back of every page the group dirtied) cost about as much as a
// dozen attempts' own work. With workers waiting on their outcomes' write,
// a batch of those that happened to be waiting is a fraction of them;
// waiting for the rest made batches about seven times larger (hookgate
// bench, drain: ~8 -> ~57 attempts per write, a fifth less gateway CPU per
// delivery and more deliveries/s with 5 ms; docs/delivery.md).
func (dp *Dispatcher) gatherOutcomes(batch []*outcome, limit int, timer *time.Timer) []*outcome {
	lingering := false
	for len(batch) < limit {
		select {
		case o, ok := <-dp.outcomes:
			if !ok {
				return batch
			}
			batch = append(batch, o)
			continue
		default:
		}
		if dp.cfg.RecordLinger <= 0 || dp.sending.Load() <= 0 {
			timer.Stop() // no linger, or no other outcome can come
			return batch
		}
		if !lingering {
			lingering = true
			timer.Reset(dp.cfg.RecordLinger)
		}
		select {
		case o, ok := <-dp.outcomes:
			if !ok {
				timer.Stop()
				return batch
			}
			batch = append(batch, o)
		case <-timer.C:
			return batch
		}
	}
	if lingering {
		timer.Stop()
	}
	return batch
}

// writeDurably retries the write until it succeeds or ctx ends. A failed
// write (a full disk, say) must not lose what the receivers answered, and
// giving up would leave the deliveries claimed until the next start. One
// outcome is written with RecordAttempt (RecordAttempts' one-record form).
func (dp *Dispatcher) writeDurably(ctx context.Context, recs []store.AttemptRecord) error {
	wait := 50 * time.Millisecond
	for {
		var err error
		if len(recs) == 1 {
			recs[0].Err = nil
			if err = dp.queue.RecordAttempt(ctx, recs[0].Delivery, recs[0].Attempt); errors.Is(err, store.ErrNotFound) {
				recs[0].Err, err = err, nil // this record's own fault: retrying cannot help
			}
		} else {
			err = dp.queue.RecordAttempts(ctx, recs)
		}
		if err == nil || ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return err
		}
		dp.log.Warn("recording delivery attempts failed; retrying", "attempts", len(recs),
			"first", recs[0].Attempt.LogID(), "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// recorded finishes an outcome once its write returned: on success the
// metrics, the log line and a wake-up for a retry; either way the delivery
// leaves the in-flight count (its worker and fairness share were released
// when the outcome was handed over).
func (dp *Dispatcher) recorded(o *outcome) {
	a := o.rec.Attempt
	if o.rec.Err != nil {
		// Shutdown, or the store refused this record: the delivery stays
		// claimed only in memory, so the next start sends it again with
		// the same id.
		dp.log.Error("recording a delivery attempt", "delivery", a.LogID(), "err", o.rec.Err)
	} else {
		if dp.disk != nil {
			dp.disk.Note(attemptStoredBytes(a))
		}
		if dp.metrics != nil {
			dp.metrics.ObserveAttempt(a, o.sink)
		}
		level := slog.LevelDebug
		if o.dec.state == store.DeliveryDead {
			level = slog.LevelWarn
		}
		// Asked first: the arguments (ids, a formatted time, each boxed)
		// cost ten allocations per delivery even when the line is dropped.
		if ctx := context.Background(); dp.log.Enabled(ctx, level) {
			dp.log.Log(ctx, level, "delivery attempt", "delivery", a.LogID(), "webhook", o.claimed.WebhookID, "event", o.claimed.EventName,
				"status", o.status, "outcome", o.dec.outcome, "next", o.dec.dueAt.Format(time.RFC3339), "error", o.err)
		}
	}
	dp.settle(o.claimed)
	if o.rec.Err == nil && o.dec.state == store.DeliveryPending {
		dp.Wake()
	}
}

// release ends a delivery's sending: its fairness share and its worker,
// which lets the claimer hand out another. It stays in InFlight until
// recorded.
func (dp *Dispatcher) release(d *store.Delivery, took time.Duration) {
	dp.fair.done(d, took)
	dp.sending.Add(-1)
	dp.freed()
}

// settle ends a released delivery's claim in the dispatcher once nothing
// of it is left to write: its company's pending count (fairness) and
// InFlight, which makes room for a claim (idle).
func (dp *Dispatcher) settle(d *store.Delivery) {
	dp.fair.recorded(d)
	dp.unrecorded.Add(-1)
	dp.freed()
}

// freed tells the claimer that room for a claim may have opened (idle).
func (dp *Dispatcher) freed() {
	select {
	case dp.freedCh <- struct{}{}:
	default:
	}
}
