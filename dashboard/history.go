package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
)

// historyEntry is one change of the API's history.
type historyEntry struct {
	ID        int64          `json:"id"`
	UserID    int64          `json:"userId"`
	Action    string         `json:"action"`
	Changes   map[string]any `json:"changes"`
	Reason    *string        `json:"reason"`
	CreatedAt string         `json:"createdAt"`
}

// Sides splits the changes into previous and new values, side by side:
// {from, to} pairs go left and right, added/removed lists go right and
// left, and a snapshot (create, delete) is all "new" (or all "previous"
// for a delete).
func (h historyEntry) Sides() (prev, next map[string]any) {
	prev, next = map[string]any{}, map[string]any{}
	for k, v := range h.Changes {
		m, ok := v.(map[string]any)
		switch {
		case ok && hasKeys(m, "from", "to"):
			prev[k], next[k] = m["from"], m["to"]
		case ok && (m["added"] != nil || m["removed"] != nil || m["changed"] != nil):
			if m["removed"] != nil {
				prev[k+" removed"] = m["removed"]
			}
			if m["added"] != nil {
				next[k+" added"] = m["added"]
			}
			if m["changed"] != nil {
				next[k+" changed"] = m["changed"]
			}
		case h.Action == "webhook_deleted":
			prev[k] = v
		default:
			next[k] = v
		}
	}
	return prev, next
}

// Prev and Next are Sides' halves, for templates.
func (h historyEntry) Prev() map[string]any { p, _ := h.Sides(); return p }
func (h historyEntry) Next() map[string]any { _, n := h.Sides(); return n }

// Who names the author: user 0 is the gateway itself.
func (h historyEntry) Who() string {
	if h.UserID == 0 {
		return "system"
	}
	return "user " + strconv.FormatInt(h.UserID, 10)
}

func hasKeys(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// historyPage lists a webhook's changes, newest first.
func (d *Dashboard) historyPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	q := r.URL.Query()
	apiQ := url.Values{}
	paging(q, apiQ)
	if v := q.Get("search"); v != "" {
		apiQ.Set("search", v)
	}
	var hist []historyEntry
	env, err := s.api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(id)+"/history", apiQ, &hist)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	var wh webhook
	if _, err := s.api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(id), nil, &wh); err != nil {
		wh.WebhookID = id // deleted webhooks keep a readable history
	}
	data := map[string]any{"Webhook": wh, "History": hist, "Query": q, "Search": q.Get("search"),
		"Pager": pagerOf(env, len(hist))}
	d.render(w, r, http.StatusOK, "history", "History", s, data)
}
