package webhooks

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/hookgate/hookgate/store"
)

// AutoDeactivation is what the auto-deactivation check needs of the config.
type AutoDeactivation struct {
	After     time.Duration // lifecycle.auto_deactivate_after
	PublicURL string        // server.public_url, for the links in the email
	Mailer    Mailer
}

// AutoDeactivate deactivates every active webhook whose deliveries have
// all failed for a.After, counted from the first failure after its last
// success, and emails its notificationEmail; it returns their ids.
func (s *Service) AutoDeactivate(ctx context.Context, a AutoDeactivation) ([]string, error) {
	after := a.After
	var done []string
	for _, w := range s.index.Active() {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		st, err := s.store.GetWebhookStats(ctx, w.WebhookID)
		if err != nil {
			return done, err
		}
		if st.FailingSince.IsZero() || s.clock.Now().Sub(st.FailingSince) < after {
			continue
		}
		ok, err := s.autoDeactivate(ctx, a, w.WebhookID, st.FailingSince)
		if err != nil {
			return done, err
		}
		if ok {
			done = append(done, w.WebhookID)
		}
	}
	return done, nil
}

// autoDeactivate makes the webhook inactive as the system (user 0), records
// why, dead-letters its pending deliveries and emails notificationEmail.
func (s *Service) autoDeactivate(ctx context.Context, a AutoDeactivation, webhookID string, since time.Time) (bool, error) {
	reason := fmt.Sprintf("auto-deactivated: every delivery has failed since %s (%s; lifecycle.auto_deactivate_after)",
		since.UTC().Format(time.RFC3339), humanDuration(a.After))
	next, err := s.Deactivate(ctx, webhookID, reason)
	if err != nil || next == nil {
		return false, err // nil: changed meanwhile
	}
	s.log.Warn("webhook auto-deactivated", "webhook", webhookID, "company", next.CompanyID, "failing_since", since)
	s.notifyDeactivated(ctx, a, next, since)
	return true, nil
}

// notifyDeactivated emails the webhook's notificationEmail, if any. A
// failure is logged: the deactivation and its history stand either way.
func (s *Service) notifyDeactivated(ctx context.Context, a AutoDeactivation, w *store.Webhook, since time.Time) {
	if w.NotificationEmail == "" {
		return
	}
	m := Message{
		To:      w.NotificationEmail,
		Subject: "Webhook " + w.WebhookID + " was deactivated after " + humanDuration(a.After) + " of failed deliveries",
		Body:    deactivationText(w, since, a.After, a.PublicURL),
	}
	if err := a.Mailer.Send(ctx, m); err != nil {
		s.log.Error("auto-deactivation email not sent", "webhook", w.WebhookID, "err", err)
		return
	}
	s.log.Info("auto-deactivation email sent", "webhook", w.WebhookID)
}

func deactivationText(w *store.Webhook, since time.Time, after time.Duration, public string) string {
	return fmt.Sprintf(`Your webhook %s has been set to inactive.

Every delivery to it has failed since %s, for longer than %s, so
hookgate stopped sending to it. Events are not queued while it is inactive,
and deliveries that were waiting for a retry were moved to the dead-letter
queue with the reason "auto-deactivated".

Webhook:  %s
URL:      %s
Events:   %d subscribed

To resume, fix the endpoint, then:
  - reactivate:  PUT %s/api/v1/webhooks/%s  {"status": "active"}
  - resend what failed meanwhile:  POST %s/api/v1/webhooks/%s/recover  {"since": "%s"}
  - see why deliveries failed:  GET %s/api/v1/webhooks/delivery-logs?webhookId=%s

-- hookgate
`, w.WebhookID, since.UTC().Format(time.RFC3339), humanDuration(after), w.WebhookID, redactURL(w.URL), len(w.Events),
		public, w.WebhookID, public, w.WebhookID, since.UTC().Format(time.RFC3339), public, w.WebhookID)
}

// humanDuration writes whole days as days ("7 days"), anything else as Go does.
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// redactURL hides a URL's query and user info, which may carry credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not shown)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
