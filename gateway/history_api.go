package gateway

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/store"
)

// handleHistory is GET /api/v1/webhooks/{webhookId}/history. History
// outlives the webhook, so a deleted webhook's history stays readable by
// its company, and only by it.
func (g *Gateway) handleHistory(c *fiber.Ctx) error {
	spec := historySpec
	spec.defaultPerPage = g.cfg.API.PerPage
	q, err := g.parseList(c, spec)
	if err != nil {
		return err
	}
	var user *int64
	if s := c.Query("userId"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRequest("'userId' must be a number, not " + quote(s))
		}
		user = &n
	}
	ctx, company, id := c.UserContext(), claimsOf(c).CompanyID, c.Params("webhookId")
	_, missing := g.findWebhook(ctx, company, id)
	if missing != nil && !errors.Is(missing, errWebhookNotFound) {
		return missing
	}
	all, err := g.store.ListHistory(ctx, id)
	if err != nil {
		return err
	}
	if missing != nil && (len(all) == 0 || all[0].CompanyID != company) {
		return errWebhookNotFound
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
	var userQ any
	if user != nil {
		userQ = *user
	}
	return g.okList(c, out, len(out), len(all), q, fiber.Map{"webhookId": id, "userId": userQ, "search": nullIfEmpty(q.search)})
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
