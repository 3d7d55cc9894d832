package webhooks

import (
	"context"
	"sync"

	"github.com/hookgate/hookgate/store"
)

// Index is the in-memory view of every webhook the dispatcher and the
// fan-out read on the hot path (the subscriber index). The store is the
// source of truth; the index is rebuilt from it at start and updated by
// every change the gateway makes.
type Index struct {
	mu   sync.RWMutex
	byID map[string]*store.Webhook
	// subs[company][event] lists the active webhooks subscribed to event.
	subs map[int64]map[string][]*store.Webhook
}

// NewIndex returns an empty index; Load fills it.
func NewIndex() *Index {
	return &Index{byID: map[string]*store.Webhook{}, subs: map[int64]map[string][]*store.Webhook{}}
}

// Lister lists stored webhooks: the store method Load reads.
type Lister interface {
	ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*store.Webhook, error)
}

// Load replaces the index with every webhook in st.
func (x *Index) Load(ctx context.Context, st Lister) error {
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

// Put adds or replaces w. The index keeps its own pointer: callers must not
// modify w afterwards.
func (x *Index) Put(w *store.Webhook) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID[w.WebhookID] = w
	x.rebuildCompany(w.CompanyID)
}

// Remove drops the webhook, if the index holds it.
func (x *Index) Remove(webhookID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if w, ok := x.byID[webhookID]; ok {
		delete(x.byID, webhookID)
		x.rebuildCompany(w.CompanyID)
	}
}

// Get returns the webhook or nil. The result must be treated as read-only.
func (x *Index) Get(webhookID string) *store.Webhook {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[webhookID]
}

// Subscribers returns the active webhooks of company subscribed to event.
func (x *Index) Subscribers(company int64, event string) []*store.Webhook {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.subs[company][event]
}

func (x *Index) rebuildSubs() {
	x.subs = map[int64]map[string][]*store.Webhook{}
	for _, w := range x.byID {
		x.add(w)
	}
}

// rebuildCompany recomputes one company's subscriptions; the slices handed
// out earlier stay valid because they are replaced, never changed.
func (x *Index) rebuildCompany(company int64) {
	delete(x.subs, company)
	for _, w := range x.byID {
		if w.CompanyID == company {
			x.add(w)
		}
	}
}

func (x *Index) add(w *store.Webhook) {
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

// Active lists the active webhooks of every company.
func (x *Index) Active() []*store.Webhook {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*store.Webhook
	for _, w := range x.byID {
		if w.Status == store.StatusActive {
			out = append(out, w)
		}
	}
	return out
}
