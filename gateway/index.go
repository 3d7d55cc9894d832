package gateway

import (
	"context"
	"sync"

	"github.com/hookgate/hookgate/store"
)

// webhookIndex is the in-memory view of every webhook the dispatcher and the
// fan-out read on the hot path. The store is the source of truth; the index
// is rebuilt from it at start and updated by every change the gateway makes.
type webhookIndex struct {
	mu   sync.RWMutex
	byID map[string]*store.Webhook
	// subs[company][event] lists the active webhooks subscribed to event.
	subs map[int64]map[string][]*store.Webhook
}

func newWebhookIndex() *webhookIndex {
	return &webhookIndex{byID: map[string]*store.Webhook{}, subs: map[int64]map[string][]*store.Webhook{}}
}

// load replaces the index with every webhook in st.
func (x *webhookIndex) load(ctx context.Context, st store.Store) error {
	all, err := st.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID = map[string]*store.Webhook{}
	for _, w := range all {
		x.byID[w.WebhookID] = w
	}
	x.rebuildSubs()
	return nil
}

// put adds or replaces w. The index keeps its own pointer: callers must not
// modify w afterwards.
func (x *webhookIndex) put(w *store.Webhook) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID[w.WebhookID] = w
	x.rebuildCompany(w.CompanyID)
}

func (x *webhookIndex) remove(webhookID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if w, ok := x.byID[webhookID]; ok {
		delete(x.byID, webhookID)
		x.rebuildCompany(w.CompanyID)
	}
}

// Get returns the webhook or nil. The result must be treated as read-only.
func (x *webhookIndex) Get(webhookID string) *store.Webhook {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[webhookID]
}

// Subscribers returns the active webhooks of company subscribed to event.
func (x *webhookIndex) Subscribers(company int64, event string) []*store.Webhook {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.subs[company][event]
}

func (x *webhookIndex) rebuildSubs() {
	x.subs = map[int64]map[string][]*store.Webhook{}
	for _, w := range x.byID {
		x.add(w)
	}
}

// rebuildCompany recomputes one company's subscriptions; the slices handed
// out earlier stay valid because they are replaced, never changed.
func (x *webhookIndex) rebuildCompany(company int64) {
	delete(x.subs, company)
	for _, w := range x.byID {
		if w.CompanyID == company {
			x.add(w)
		}
	}
}

func (x *webhookIndex) add(w *store.Webhook) {
	if w.Status != store.StatusActive {
		return
	}
	m := x.subs[w.CompanyID]
	if m == nil {
		m = map[string][]*store.Webhook{}
		x.subs[w.CompanyID] = m
	}
	for _, e := range w.Events {
		m[e] = append(m[e], w)
	}
}
