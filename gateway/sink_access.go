package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// sinkAccess says which company may use which sink: the sink blocks the
// gateway runs, with the companies lists of the config last loaded. Create,
// update, reload and every delivery ask it; Reload swaps it, so a company
// removed from a list loses the sink at once, not at the next restart.
type sinkAccess struct {
	snap atomic.Pointer[sinkSnapshot]
}

// sinkSnapshot is one config's view of the running sinks.
type sinkSnapshot struct {
	blocks  []config.Sink // running sinks, with the companies lists in force
	revoked []string      // running sinks whose block a reload removed: no company may use them
}

func newSinkAccess(s sinkSnapshot) *sinkAccess {
	a := &sinkAccess{}
	a.set(s)
	return a
}

func (a *sinkAccess) set(s sinkSnapshot) { a.snap.Store(&s) }

// usable lists the sinks a webhook of company may name, http first.
func (a *sinkAccess) usable(company int64) []config.Sink {
	return config.UsableSinks(a.snap.Load().blocks, company)
}

// check tells whether sink name runs in this process (known), and whether
// a webhook of company may deliver through it. A sink this process does
// not run is no one's to grant: delivering through it fails anyway (the
// sink host does not know it), and with replicas another one may run it.
func (a *sinkAccess) check(name string, company int64) (known, allowed bool) {
	s := a.snap.Load()
	if slices.Contains(s.revoked, name) {
		return true, false
	}
	if b := config.FindSink(s.blocks, name); b != nil {
		return true, b.Allows(company)
	}
	return false, false
}

// Forbids reports a known sink that company may not use.
func (a *sinkAccess) Forbids(name string, company int64) bool {
	known, allowed := a.check(name, company)
	return known && !allowed
}

// reloadedSinks is what Reload lets webhooks use: each running sink with
// the companies list its block has in next. A sink process keeps its type
// and settings until restart, so the running block's type decides whether
// the sink may be open to all; a running sink whose block next removes is
// revoked: no company may use it until the restart stops it.
func reloadedSinks(running, next []config.Sink) sinkSnapshot {
	var out sinkSnapshot
	for _, r := range running {
		n := config.FindSink(next, r.Name)
		if n == nil {
			out.revoked = append(out.revoked, r.Name)
			continue
		}
		r.Companies = slices.Clone(n.Companies)
		out.blocks = append(out.blocks, r)
	}
	return out
}

// checkBlockSinks refuses HCL webhook blocks naming a sink their company
// may not use. config.Load reports the same at the sink attribute; this
// guards a config built otherwise, and the running sinks at reload.
func checkBlockSinks(blocks []config.Webhook, access *sinkAccess) error {
	for _, w := range blocks {
		if !access.Forbids(w.Sink, w.CompanyID) {
			continue // an undeclared sink is reported where its name is checked
		}
		who := "no company may use it"
		if s := config.FindSink(access.snap.Load().blocks, w.Sink); s != nil && len(s.Companies) > 0 {
			who = "companies " + config.FormatCompanies(s.Companies) + " only may use it"
		}
		return fmt.Errorf("%s:%d:%d webhook %q: sink %q is not available to company %d: %s",
			w.Range.Filename, w.Range.Start.Line, w.Range.Start.Column, w.Name, w.Sink, w.CompanyID, who)
	}
	return nil
}

// revokeSinksLocked deactivates every active API webhook whose company may
// no longer use its sink (a companies list changed, or a reload removed the
// sink block),
// as the system with the reason in its history; its pending deliveries are
// dead-lettered with that reason. HCL webhooks cannot get here: a block
// like that is refused with the whole config. Deactivating rather than
// failing each delivery keeps the change visible in the API, the dashboard
// and the history, and stops fan-out to a webhook that cannot deliver; the
// company may choose another sink and reactivate it (an update checks the
// sink again). The caller holds g.mgmt.mu.
func (g *Gateway) revokeSinksLocked(ctx context.Context, existing []*store.Webhook, file string) (int, error) {
	n := 0
	for _, w := range existing {
		if w.Source == store.SourceConfig || w.Status != store.StatusActive || !g.sinkAccess.Forbids(w.Sink, w.CompanyID) {
			continue
		}
		reason := fmt.Sprintf("deactivated: sink %q is not available to company %d under %s", w.Sink, w.CompanyID, file)
		if _, err := g.deactivateLocked(ctx, w, reason); err != nil {
			return n, err
		}
		g.log.Warn("webhook deactivated: its company may no longer use its sink", "webhook", w.WebhookID,
			"company", w.CompanyID, "sink", w.Sink, "config", file)
		n++
	}
	return n, nil
}
