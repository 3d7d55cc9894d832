package gateway

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/gateway/webhooks"
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
// webhooks.Service.AutoDeactivate re-reads each webhook under it, so a webhook is
// deactivated, recorded and emailed about once whichever replicas check.
func (g *Gateway) CheckLifecycle(ctx context.Context) ([]string, error) {
	if g.cfg.Lifecycle.AutoDeactivateAfter <= 0 {
		return nil, nil
	}
	var done []string
	err := g.exclusive(ctx, lockLifecycle, func(ctx context.Context) error {
		var err error
		done, err = g.hooks.AutoDeactivate(ctx, webhooks.AutoDeactivation{
			After: g.cfg.Lifecycle.AutoDeactivateAfter, PublicURL: g.cfg.Server.PublicURL, Mailer: g.mailer,
		})
		return err
	})
	return done, err
}
