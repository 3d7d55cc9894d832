package gateway

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hookgate/hookgate/store"
)

// recentEventsSize bounds the cache of recently accepted events: enough to
// cover what the workers are delivering during a burst (a few MiB of
// envelopes), not a copy of the queue.
const recentEventsSize = 4096

// recentEvents keeps the events accepted most recently so that their
// deliveries — usually due at once, often several per event — do not each
// read and decode the event from storage. Events never change once
// accepted, so a cached one is never stale; a miss reads the store.
type recentEvents struct {
	cache *lru.Cache[string, *store.Event]
}

func newRecentEvents() *recentEvents {
	c, err := lru.New[string, *store.Event](recentEventsSize)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &recentEvents{cache: c}
}

// add remembers an event that is durably stored and has deliveries queued.
func (r *recentEvents) add(ev *store.Event) { r.cache.Add(ev.ID, ev) }

// get returns the event from the cache or from st.
func (r *recentEvents) get(ctx context.Context, st store.Store, id string) (*store.Event, error) {
	if ev, ok := r.cache.Get(id); ok {
		return ev, nil
	}
	return st.GetEvent(ctx, id)
}
