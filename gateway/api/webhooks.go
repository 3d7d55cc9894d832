package api

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
func (s *Server) handleListWebhooks(c *fiber.Ctx) error {
	spec := webhookSpec
	spec.defaultPerPage = s.cfg.API.PerPage
	q, err := s.parseList(c, spec)
	if err != nil {
		return err
	}
	view, err := s.viewFor(c, q.fields, q.fieldsAsked)
	if err != nil {
		return err
	}
	status, id := c.Query("status"), c.Query("webhookId")
	if status != "" && !slices.Contains(config.Statuses, status) {
		return badRequest("'status' must be active, inactive or archived, not " + quote(status))
	}
	all, err := s.store.ListWebhooks(c.UserContext(), store.WebhookFilter{CompanyID: ClaimsOf(c).CompanyID, Status: store.WebhookStatus(status)})
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
	query := fiber.Map{}
	echoSent(query, "status", status)
	echoSent(query, "webhookId", id)
	echoSent(query, "search", q.search)
	return s.okList(c, out, len(out), len(all), q, query)
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
func (s *Server) handleGetWebhook(c *fiber.Ctx) error {
	view, err := s.newWebhookView(c)
	if err != nil {
		return err
	}
	w, err := s.hooks.Find(c.UserContext(), ClaimsOf(c).CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	return s.okOne(c, view.render(w))
}

// handleCreateWebhook is POST /api/v1/webhooks. It answers 200 (the
// OpenAPI's code) with the whole webhook, secret included: the one answer
// that always shows it.
func (s *Server) handleCreateWebhook(c *fiber.Ctx) error {
	in, err := parseWebhookInput(c.Body())
	if err != nil {
		return err
	}
	if err := in.required(); err != nil {
		return err
	}
	cl := ClaimsOf(c)
	ctx := c.UserContext()
	w := &store.Webhook{
		WebhookID: uuid.NewString(), CompanyID: cl.CompanyID, UserID: cl.UserID,
		Sink: config.BuiltinSink, Source: store.SourceAPI, SignatureFormat: config.SignatureFN,
	}
	if _, err := s.secretGrace(in, false); err != nil {
		return err // a grace period means nothing without an old secret
	}
	in.apply(w)
	if w.Secret == "" {
		w.Secret = webhooks.NewSecret()
	}
	if err := s.validateWebhook(w); err != nil {
		return err
	}
	err = s.hooks.Create(ctx, w, cl.UserID, "", func(w *store.Webhook) error {
		// Again under the lock a reload's revocation of sinks takes, so a
		// create that raced it cannot keep a sink its company just lost.
		if err := s.checkSink(w); err != nil {
			return err
		}
		return s.hooks.CheckQuota(ctx, cl.CompanyID, s.cfg.QuotasOf(cl.CompanyID).Webhooks)
	})
	if err != nil {
		return err
	}
	s.log.Info("webhook created", "webhook", w.WebhookID, "company", w.CompanyID, "user", cl.UserID)
	return s.okOne(c, fullView(true).render(w))
}

// handleUpdateWebhook is PUT /api/v1/webhooks/{webhookId}: only the fields
// in the body change. Status moves active ⇄ inactive or to archived; an
// archived webhook never changes again.
func (s *Server) handleUpdateWebhook(c *fiber.Ctx) error {
	in, err := parseWebhookInput(c.Body())
	if err != nil {
		return err
	}
	cl := ClaimsOf(c)
	w, _, err := s.hooks.Update(c.UserContext(), cl.CompanyID, c.Params("webhookId"), func(old, next *store.Webhook) (webhooks.Change, error) {
		in.apply(next)
		grace, err := s.secretGrace(in, next.Secret != old.Secret)
		if err != nil {
			return webhooks.Change{}, err
		}
		if err := s.validateWebhook(next); err != nil {
			return webhooks.Change{}, err
		}
		return webhooks.Change{Actor: cl.UserID, DeadLetter: webhooks.StatusReason(next.Status, cl.UserID), Rotate: true, Grace: grace}, nil
	})
	if err != nil {
		return err
	}
	setsSecret := in.Secret != nil && *in.Secret != ""
	return s.okOne(c, fullView(setsSecret).render(w))
}

// handleDeleteWebhook is DELETE /api/v1/webhooks/{webhookId}: the webhook
// goes, its delivery logs and history stay. The answer is the deleted
// configuration (OpenAPI), without the secret.
func (s *Server) handleDeleteWebhook(c *fiber.Ctx) error {
	cl := ClaimsOf(c)
	w, err := s.hooks.Delete(c.UserContext(), cl.CompanyID, c.Params("webhookId"), cl.UserID)
	if err != nil {
		return err
	}
	s.log.Info("webhook deleted", "webhook", w.WebhookID, "company", w.CompanyID, "user", cl.UserID)
	return s.okOne(c, fullView(false).render(w))
}

// handleDeleteAttribute is DELETE /api/v1/webhooks/{webhookId}/{attributeType}/{attributeName}.
func (s *Server) handleDeleteAttribute(c *fiber.Ctx) error {
	typ, name := c.Params("attributeType"), unescape(c.Params("attributeName"))
	switch typ {
	case attrHeader:
	case attrLegacyField:
		return Errorf(fiber.StatusNotFound, "legacy_field attributes are not supported by hookgate, so there is none to remove")
	default:
		return badRequest("'attributeType' must be header or legacy_field, not " + quote(typ))
	}
	cl := ClaimsOf(c)
	w, changed, err := s.hooks.Update(c.UserContext(), cl.CompanyID, c.Params("webhookId"), func(old, next *store.Webhook) (webhooks.Change, error) {
		next.Headers = mergeHeaders(old.Headers, map[string]*string{name: nil})
		return webhooks.Change{Actor: cl.UserID}, nil
	})
	if err != nil {
		return err
	}
	if !changed {
		return Errorf(fiber.StatusNotFound, "header "+quote(name)+" is not set on webhook "+w.WebhookID)
	}
	return s.okOne(c, fiber.Map{"message": "Webhook attribute successfully removed"})
}
