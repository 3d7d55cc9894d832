package gateway

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// lifecycleLoop runs the periodic checks (auto-deactivation) and, when
// replicas share the store, the webhook index refresh (storage.go), each on
// its own goroutine from Start until Shutdown.
type lifecycleLoop struct {
	g       *Gateway
	every   time.Duration
	check   ticker
	refresh ticker
}

func (l *lifecycleLoop) start() {
	g := l.g
	if g.sharedStore() {
		l.refresh.start(indexRefreshInterval, func(ctx context.Context) {
			if err := refreshIndex(ctx, g); err != nil && ctx.Err() == nil {
				g.log.Warn("refreshing webhooks from the shared store", "err", err)
			}
		})
	}
	if g.cfg.Lifecycle.AutoDeactivateAfter > 0 {
		l.check.start(l.every, func(ctx context.Context) {
			if _, err := g.CheckLifecycle(ctx); err != nil && ctx.Err() == nil {
				g.log.Error("lifecycle check", "err", err)
			}
		})
	}
}

// stop ends both and waits for a run in progress (a check's store writes
// and email are bounded by their own timeouts).
func (l *lifecycleLoop) stop() {
	l.refresh.stop()
	l.check.stop()
}

// CheckLifecycle deactivates every active webhook whose deliveries have all
// failed for lifecycle.auto_deactivate_after (7 days), counted from the
// first failure after its last success; it returns their ids. The loop
// calls it every lifecycle.check_interval; tools and tests may call it too.
//
// With a shared store one replica at a time checks (an advisory lock), and
// autoDeactivate re-reads each webhook under it, so a webhook is
// deactivated, recorded and emailed about once whichever replicas check.
func (g *Gateway) CheckLifecycle(ctx context.Context) ([]string, error) {
	if g.cfg.Lifecycle.AutoDeactivateAfter <= 0 {
		return nil, nil
	}
	var done []string
	err := g.exclusive(ctx, lockLifecycle, func(ctx context.Context) error {
		var err error
		done, err = g.checkLifecycleLocked(ctx)
		return err
	})
	return done, err
}

// checkLifecycleLocked is CheckLifecycle under the lifecycle lock.
func (g *Gateway) checkLifecycleLocked(ctx context.Context) ([]string, error) {
	after := g.cfg.Lifecycle.AutoDeactivateAfter
	var done []string
	for _, w := range g.index.Active() {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		st, err := g.store.GetWebhookStats(ctx, w.WebhookID)
		if err != nil {
			return done, err
		}
		if st.FailingSince.IsZero() || g.clock.Now().Sub(st.FailingSince) < after {
			continue
		}
		ok, err := g.autoDeactivate(ctx, w.WebhookID, st.FailingSince)
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
func (g *Gateway) autoDeactivate(ctx context.Context, webhookID string, since time.Time) (bool, error) {
	reason := fmt.Sprintf("auto-deactivated: every delivery has failed since %s (%s; lifecycle.auto_deactivate_after)",
		since.UTC().Format(time.RFC3339), humanDuration(g.cfg.Lifecycle.AutoDeactivateAfter))
	next, err := g.hooks.Deactivate(ctx, webhookID, reason)
	if err != nil || next == nil {
		return false, err // nil: changed meanwhile
	}
	g.log.Warn("webhook auto-deactivated", "webhook", webhookID, "company", next.CompanyID, "failing_since", since)
	g.notifyDeactivated(ctx, next, since)
	return true, nil
}

// notifyDeactivated emails the webhook's notificationEmail, if any. A
// failure is logged: the deactivation and its history stand either way.
func (g *Gateway) notifyDeactivated(ctx context.Context, w *store.Webhook, since time.Time) {
	if w.NotificationEmail == "" {
		return
	}
	m := webhooks.Message{
		To:      w.NotificationEmail,
		Subject: "Webhook " + w.WebhookID + " was deactivated after " + humanDuration(g.cfg.Lifecycle.AutoDeactivateAfter) + " of failed deliveries",
		Body:    deactivationText(w, since, g.cfg.Lifecycle.AutoDeactivateAfter, g.cfg.Server.PublicURL),
	}
	if err := g.mgmt.mailer.Send(ctx, m); err != nil {
		g.log.Error("auto-deactivation email not sent", "webhook", w.WebhookID, "err", err)
		return
	}
	g.log.Info("auto-deactivation email sent", "webhook", w.WebhookID)
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
