package delivery

import (
	"context"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/hookgate/hookgate/store"
)

// eventOverhead is what a cached event costs beyond its payload: the struct,
// its ids and name, and the LRU's entry. It keeps many tiny events from
// being counted as free.
const eventOverhead = 256

// largestCachedShare: an event larger than this share of the cache is not
// cached, so one big event cannot flush every other one.
const largestCachedShare = 16

// EventCache keeps the events accepted most recently so that their
// deliveries — usually due at once, often several per event — do not each
// read and decode the event from storage. Events never change once
// accepted, so a cached one is never stale; a miss reads the store.
//
// It is bounded by bytes (delivery.event_cache_bytes), not by count: a
// count of events of any size pinned 400 MB for 400 publishes of 1 MiB.
type EventCache struct {
	maxBytes int64 // the whole cache
	maxEvent int64 // one event; larger ones are not cached

	mu    sync.Mutex
	lru   *simplelru.LRU[string, *store.Event] // nil when maxBytes is 0
	bytes int64                                // accounted: payloads plus eventOverhead each
}

// NewEventCache returns a cache of maxBytes (delivery.event_cache_bytes);
// below eventOverhead it is off and every read goes to the store.
func NewEventCache(maxBytes int64) *EventCache {
	r := &EventCache{maxBytes: maxBytes, maxEvent: maxBytes / largestCachedShare}
	if maxBytes < eventOverhead {
		return r // off
	}
	// The count bound never binds before the byte bound does.
	lru, err := simplelru.NewLRU(int(maxBytes/eventOverhead), func(_ string, ev *store.Event) {
		r.bytes -= eventCost(ev)
	})
	if err != nil {
		panic(err) // only for a size ≤ 0, excluded above
	}
	r.lru = lru
	return r
}

func eventCost(ev *store.Event) int64 { return int64(len(ev.Payload)) + eventOverhead }

// Add remembers an event that is durably stored and has deliveries queued.
func (r *EventCache) Add(ev *store.Event) {
	cost := eventCost(ev)
	if r.lru == nil || cost > r.maxEvent {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lru.Contains(ev.ID) {
		return // events never change: the cached one is the same
	}
	r.lru.Add(ev.ID, ev)
	r.bytes += cost
	for r.bytes > r.maxBytes {
		r.lru.RemoveOldest() // the eviction callback subtracts
	}
}

// Get returns the event from the cache or from q.
func (r *EventCache) Get(ctx context.Context, q Queue, id string) (*store.Event, error) {
	if r.lru != nil {
		r.mu.Lock()
		ev, ok := r.lru.Get(id)
		r.mu.Unlock()
		if ok {
			return ev, nil
		}
	}
	return q.GetEvent(ctx, id)
}

// Has reports whether the event is cached, without counting as a use.
func (r *EventCache) Has(id string) bool {
	if r == nil || r.lru == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Contains(id)
}

// Size reports the accounted bytes and the number of events cached.
func (r *EventCache) Size() (bytes int64, events int) {
	if r.lru == nil {
		return 0, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes, r.lru.Len()
}
