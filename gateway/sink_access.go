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
	blocks atomic.Pointer[[]config.Sink]
}

func newSinkAccess(blocks []config.Sink) *sinkAccess {
	a := &sinkAccess{}
	a.set(blocks)
	return a
}

func (a *sinkAccess) set(blocks []config.Sink) {
	b := slices.Clone(blocks)
	a.blocks.Store(&b)
}

// usable lists the sinks a webhook of company may name, http first.
func (a *sinkAccess) usable(company int64) []config.Sink {
	return config.UsableSinks(*a.blocks.Load(), company)
}

// find returns the sink named name, or nil when no running sink has it.
func (a *sinkAccess) find(name string) *config.Sink {
	return config.FindSink(*a.blocks.Load(), name)
}

// allows reports whether a webhook of company may deliver through sink name.
func (a *sinkAccess) allows(name string, company int64) bool {
	s := a.find(name)
	return s != nil && s.Allows(company)
}

// reloadedSinks is what Reload lets webhooks use: each running sink with
// the companies list its block has in next. A sink process keeps its type
// and settings until restart, so the running block's type decides whether
// the sink may be open to all; a running sink whose block next removes is
// left out, and no company may use it any more.
func reloadedSinks(running, next []config.Sink) []config.Sink {
	out := make([]config.Sink, 0, len(running))
	for _, r := range running {
		n := config.FindSink(next, r.Name)
		if n == nil {
			continue
		}
		r.Companies = slices.Clone(n.Companies)
		out = append(out, r)
	}
	return out
}

// checkBlockSinks refuses HCL webhook blocks naming a declared sink their
// company may not use. config.Load reports the same at the sink attribute;
// this guards a config built otherwise, and the running sinks at reload.
func checkBlockSinks(blocks []config.Webhook, access *sinkAccess) error {
	for _, w := range blocks {
		s := access.find(w.Sink)
		if s == nil || s.Allows(w.CompanyID) {
			continue // an undeclared sink is reported where its name is checked
		}
		who := "no company"
		if len(s.Companies) > 0 {
			who = "companies " + config.FormatCompanies(s.Companies) + " only"
		}
		return fmt.Errorf("%s:%d:%d webhook %q: sink %q is not available to company %d: %s may use it",
			w.Range.Filename, w.Range.Start.Line, w.Range.Start.Column, w.Name, w.Sink, w.CompanyID, who)
	}
	return nil
}

// revokeSinksLocked deactivates every active API webhook whose company may
// no longer use its sink (a companies list changed, or the sink block went),
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
		if w.Source == store.SourceConfig || w.Status != store.StatusActive || g.sinkAccess.allows(w.Sink, w.CompanyID) {
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
