package gateway

import (
	"context"

	"github.com/hookgate/hookgate/gateway/rollup"
	"github.com/hookgate/hookgate/store"
)

// rollupLoop runs the aggregator of the charts' per-minute rollups
// (gateway/rollup, docs/charts.md) from Start to Shutdown. A store
// without store.Rollups has none: every method is a no-op on nil.
type rollupLoop struct {
	agg    *rollup.Aggregator
	cancel context.CancelFunc
	done   chan struct{}
}

// newRollupLoop builds the aggregator over g's store, sampling its queue
// depth every storage.rollup_sample.
func newRollupLoop(g *Gateway) *rollupLoop {
	rs, ok := g.store.(store.Rollups)
	if !ok {
		return nil
	}
	return &rollupLoop{agg: rollup.New(rollup.Options{
		Store: rs, Depth: g.store.QueueDepth, Every: g.cfg.Storage.RollupSample, Clock: g.clock, Log: g.log,
	})}
}

// aggregator is what the delivery path tells of each recorded attempt
// (Observe); nil without rollups.
func (l *rollupLoop) aggregator() *rollup.Aggregator {
	if l == nil {
		return nil
	}
	return l.agg
}

func (l *rollupLoop) start() {
	if l == nil || l.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		l.agg.Run(ctx)
	}()
}

// stop ends Run, which writes what is left (the running minute too)
// within one sample interval, and waits for it.
func (l *rollupLoop) stop() {
	if l == nil || l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
}
