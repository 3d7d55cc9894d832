package api

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// handleHistory is GET /api/v1/webhooks/{webhookId}/history. History
// outlives the webhook, so a deleted webhook's history stays readable by
// its company, and only by it.
func (s *Server) handleHistory(c *fiber.Ctx) error {
	spec := historySpec
	spec.defaultPerPage = s.cfg.API.PerPage
	q, err := s.parseList(c, spec)
	if err != nil {
		return err
	}
	var user *int64
	userQ := c.Query("userId")
	if s := userQ; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRequest("'userId' must be a number, not " + quote(s))
		}
		user = &n
	}
	ctx, company, id := c.UserContext(), ClaimsOf(c).CompanyID, c.Params("webhookId")
	_, missing := s.hooks.Find(ctx, company, id)
	if missing != nil && !errors.Is(missing, webhooks.ErrNotFound) {
		return missing
	}
	all, err := s.store.ListHistory(ctx, id)
	if err != nil {
		return err
	}
	if missing != nil && (len(all) == 0 || all[0].CompanyID != company) {
		return webhooks.ErrNotFound
	}
	all = slices.DeleteFunc(all, func(h *store.HistoryEntry) bool {
		return h.CompanyID != company || (user != nil && h.UserID != *user) || !matchHistorySearch(h, q.search)
	})
	sortHistory(all, q.sortBy, q.desc)
	lo, hi := q.window(len(all))
	out := make([]*object, 0, hi-lo)
	for _, h := range all[lo:hi] {
		out = append(out, historyObject(h).project(q.fields))
	}
	// userId echoes as sent: the document types the parameter as a string.
	query := fiber.Map{"webhookId": id}
	echoSent(query, "userId", userQ)
	echoSent(query, "search", q.search)
	return s.okList(c, out, len(out), len(all), q, query)
}

func sortHistory(hs []*store.HistoryEntry, by string, desc bool) {
	slices.SortStableFunc(hs, func(a, b *store.HistoryEntry) int {
		var c int
		switch by {
		case "userId":
			c = cmp.Compare(a.UserID, b.UserID)
		case "action":
			c = strings.Compare(a.Action, b.Action)
		case "createdAt", "updatedAt":
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	})
}

// historySpec is what GET /webhooks/{id}/history accepts (OpenAPI).
var historySpec = listSpec{
	sortable:      []string{"id", "userId", "action", "createdAt", "updatedAt"},
	defaultSort:   "id",
	fields:        []string{"id", "webhookId", "userId", "action", "changes", "reason", "createdAt", "updatedAt"},
	defaultFields: []string{"id", "userId", "action", "changes", "reason", "createdAt", "updatedAt"},
}

// historyObject is one entry as the API shows it; entries never change, so
// updatedAt is createdAt.
func historyObject(h *store.HistoryEntry) *object {
	changes := h.Changes
	if changes == nil {
		changes = map[string]any{}
	}
	return newObject(8).set("id", h.ID).set("webhookId", h.WebhookID).set("userId", h.UserID).
		set("action", h.Action).set("changes", changes).set("reason", nullIfEmpty(h.Reason)).
		set("createdAt", apiTime(h.CreatedAt)).set("updatedAt", apiTime(h.CreatedAt))
}

// matchHistorySearch: the OpenAPI searches userId and action.
func matchHistorySearch(h *store.HistoryEntry, s string) bool {
	return s == "" || containsFold(h.Action, s) || itoa(h.UserID) == strings.TrimSpace(s)
}
