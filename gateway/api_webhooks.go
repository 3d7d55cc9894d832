package gateway

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// handleListWebhooks is GET /api/v1/webhooks: the company's webhooks,
// filtered by status, webhookId and search, sorted and paged.
func (g *Gateway) handleListWebhooks(c *fiber.Ctx) error {
	spec := webhookSpec
	spec.defaultPerPage = g.cfg.API.PerPage
	q, err := g.parseList(c, spec)
	if err != nil {
		return err
	}
	view, err := g.viewFor(c, q.fields, q.fieldsAsked)
	if err != nil {
		return err
	}
	status, id := c.Query("status"), c.Query("webhookId")
	if status != "" && !slices.Contains(config.Statuses, status) {
		return badRequest("'status' must be active, inactive or archived, not " + quote(status))
	}
	all, err := g.store.ListWebhooks(c.UserContext(), store.WebhookFilter{CompanyID: claimsOf(c).CompanyID, Status: store.WebhookStatus(status)})
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(w *store.Webhook) bool {
		return (id != "" && w.WebhookID != id) || !matchWebhookSearch(w, q.search)
	})
	sortWebhooks(all, q.sortBy, q.desc)
	lo, hi := q.window(len(all))
	out := make([]*object, 0, hi-lo)
	for _, w := range all[lo:hi] {
		out = append(out, view.render(w))
	}
	return g.okList(c, out, len(out), len(all), q, fiber.Map{"status": nullIfEmpty(status), "webhookId": nullIfEmpty(id), "search": nullIfEmpty(q.search)})
}

// matchWebhookSearch looks in the webhook id, URL, events, status and
// notification email, ignoring case.
func matchWebhookSearch(w *store.Webhook, s string) bool {
	if s == "" {
		return true
	}
	if containsFold(w.WebhookID, s) || containsFold(w.URL, s) || containsFold(string(w.Status), s) || containsFold(w.NotificationEmail, s) {
		return true
	}
	return slices.ContainsFunc(w.Events, func(e string) bool { return containsFold(e, s) })
}

func sortWebhooks(ws []*store.Webhook, by string, desc bool) {
	slices.SortStableFunc(ws, func(a, b *store.Webhook) int {
		var c int
		switch by {
		case "webhookId":
			c = strings.Compare(a.WebhookID, b.WebhookID)
		case "createdAt":
			c = a.CreatedAt.Compare(b.CreatedAt)
		case "updatedAt":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case "url":
			c = strings.Compare(a.URL, b.URL)
		case "status":
			c = strings.Compare(string(a.Status), string(b.Status))
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

// handleGetWebhook is GET /api/v1/webhooks/{webhookId}.
func (g *Gateway) handleGetWebhook(c *fiber.Ctx) error {
	view, err := g.newWebhookView(c)
	if err != nil {
		return err
	}
	w, err := g.findWebhook(c.UserContext(), claimsOf(c).CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	return g.okOne(c, view.render(w))
}

// handleCreateWebhook is POST /api/v1/webhooks. It answers 200 (the
// OpenAPI's code) with the whole webhook, secret included: the one answer
// that always shows it.
func (g *Gateway) handleCreateWebhook(c *fiber.Ctx) error {
	in, err := parseWebhookInput(c.Body())
	if err != nil {
		return err
	}
	if err := in.required(); err != nil {
		return err
	}
	cl := claimsOf(c)
	now := g.clock.Now()
	w := &store.Webhook{
		WebhookID: uuid.NewString(), CompanyID: cl.CompanyID, UserID: cl.UserID,
		Sink: config.BuiltinSink, Source: store.SourceAPI, Version: 1, CreatedAt: now, UpdatedAt: now,
		SignatureFormat: config.SignatureFN,
	}
	if _, err := g.secretGrace(in, false); err != nil {
		return err // a grace period means nothing without an old secret
	}
	in.apply(w)
	if w.Secret == "" {
		w.Secret = newSecret()
	}
	if err := g.validateWebhook(w); err != nil {
		return err
	}
	hist := webhooks.Stamp([]*store.HistoryEntry{{Action: webhooks.ActionCreated, Changes: webhooks.Snapshot(w)}}, w, cl.UserID, now, "")
	g.mgmt.mu.Lock()
	defer g.mgmt.mu.Unlock()
	// Again under the lock a reload's revocation of sinks takes, so a
	// create that raced it cannot keep a sink its company just lost.
	if err := g.checkSink(w); err != nil {
		return err
	}
	if err := g.quota.checkWebhooks(c.UserContext(), g.store, cl.CompanyID); err != nil {
		return err
	}
	if err := g.saveWebhook(c.UserContext(), nil, w, hist, ""); err != nil {
		return err
	}
	g.log.Info("webhook created", "webhook", w.WebhookID, "company", w.CompanyID, "user", cl.UserID)
	return g.okOne(c, fullView(true).render(w))
}

// handleUpdateWebhook is PUT /api/v1/webhooks/{webhookId}: only the fields
// in the body change. Status moves active ⇄ inactive or to archived; an
// archived webhook never changes again.
func (g *Gateway) handleUpdateWebhook(c *fiber.Ctx) error {
	in, err := parseWebhookInput(c.Body())
	if err != nil {
		return err
	}
	cl := claimsOf(c)
	ctx := c.UserContext()
	old, unlock, err := g.lockWritable(c)
	if err != nil {
		return err
	}
	defer unlock()
	next := cloneWebhook(old)
	in.apply(next)
	grace, err := g.secretGrace(in, next.Secret != old.Secret)
	if err != nil {
		return err
	}
	if err := g.validateWebhook(next); err != nil {
		return err
	}
	setsSecret := in.Secret != nil && *in.Secret != ""
	hist := webhooks.Diff(old, next)
	if len(hist) == 0 {
		return g.okOne(c, fullView(setsSecret).render(old)) // nothing changed: no new version, no history
	}
	now := g.clock.Now()
	webhooks.RotateSecret(old, next, grace, now) // the old secret signs too until the grace ends
	noteGrace(hist, next)
	nextVersion(old, next, now)
	webhooks.Stamp(hist, next, cl.UserID, now, "")
	if err := g.saveWebhook(ctx, old, next, hist, statusReason(next.Status, cl.UserID)); err != nil {
		return err
	}
	return g.okOne(c, fullView(setsSecret).render(next))
}

// handleDeleteWebhook is DELETE /api/v1/webhooks/{webhookId}: the webhook
// goes, its delivery logs and history stay. The answer is the deleted
// configuration (OpenAPI), without the secret.
func (g *Gateway) handleDeleteWebhook(c *fiber.Ctx) error {
	cl := claimsOf(c)
	ctx := c.UserContext()
	w, unlock, err := g.lockWritable(c)
	if err != nil {
		return err
	}
	defer unlock()
	now := g.clock.Now()
	hist := webhooks.Stamp([]*store.HistoryEntry{{Action: webhooks.ActionDeleted, Changes: webhooks.Snapshot(w)}}, w, cl.UserID, now, "")[0]
	if err := g.removeWebhook(ctx, w, hist, "webhook deleted by user "+itoa(cl.UserID)+": not sent"); err != nil {
		return err
	}
	g.log.Info("webhook deleted", "webhook", w.WebhookID, "company", w.CompanyID, "user", cl.UserID)
	return g.okOne(c, fullView(false).render(w))
}

// handleDeleteAttribute is DELETE /api/v1/webhooks/{webhookId}/{attributeType}/{attributeName}.
func (g *Gateway) handleDeleteAttribute(c *fiber.Ctx) error {
	typ, name := c.Params("attributeType"), unescape(c.Params("attributeName"))
	switch typ {
	case attrHeader:
	case attrLegacyField:
		return errorf(fiber.StatusNotFound, "legacy_field attributes are not supported by hookgate, so there is none to remove")
	default:
		return badRequest("'attributeType' must be header or legacy_field, not " + quote(typ))
	}
	cl := claimsOf(c)
	ctx := c.UserContext()
	old, unlock, err := g.lockWritable(c)
	if err != nil {
		return err
	}
	defer unlock()
	next := cloneWebhook(old)
	next.Headers = mergeHeaders(old.Headers, map[string]*string{name: nil})
	hist := webhooks.Diff(old, next)
	if len(hist) == 0 {
		return errorf(fiber.StatusNotFound, "header "+quote(name)+" is not set on webhook "+old.WebhookID)
	}
	now := g.clock.Now()
	nextVersion(old, next, now)
	if err := g.saveWebhook(ctx, old, next, webhooks.Stamp(hist, next, cl.UserID, now, ""), ""); err != nil {
		return err
	}
	return g.okOne(c, fiber.Map{"message": "Webhook attribute successfully removed"})
}

// cloneWebhook copies w deeply enough that changing the copy's slices and
// maps leaves w alone.
func cloneWebhook(w *store.Webhook) *store.Webhook {
	c := *w
	c.Events = slices.Clone(w.Events)
	c.ModelProperties = slices.Clone(w.ModelProperties)
	if w.Headers != nil {
		c.Headers = make(map[string]string, len(w.Headers))
		for k, v := range w.Headers {
			c.Headers[k] = v
		}
	}
	return &c
}

// lockWritable takes the lock every webhook change holds and finds the
// caller's webhook named in the path, refusing one that may not change
// (archived, or defined in the HCL file). On success the caller must call
// unlock; on error the lock is already released.
func (g *Gateway) lockWritable(c *fiber.Ctx) (w *store.Webhook, unlock func(), err error) {
	g.mgmt.mu.Lock()
	w, err = g.findWebhook(c.UserContext(), claimsOf(c).CompanyID, c.Params("webhookId"))
	if err == nil {
		err = writable(w)
	}
	if err != nil {
		g.mgmt.mu.Unlock()
		return nil, nil, err
	}
	return w, g.mgmt.mu.Unlock, nil
}
