package webhooks

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/hookgate/hookgate/config"
)

// SinkAccess says which company may use which sink: the sink blocks the
// gateway runs, with the companies lists of the config last loaded. Create,
// update, reload and every delivery ask it; Reload swaps it, so a company
// removed from a list loses the sink at once, not at the next restart.
type SinkAccess struct {
	snap atomic.Pointer[SinkSnapshot]
}

// SinkSnapshot is one config's view of the running sinks.
type SinkSnapshot struct {
	Blocks  []config.Sink // running sinks, with the companies lists in force
	Revoked []string      // running sinks whose block a reload removed: no company may use them
}

// NewSinkAccess returns the access that s grants.
func NewSinkAccess(s SinkSnapshot) *SinkAccess {
	a := &SinkAccess{}
	a.Set(s)
	return a
}

// Set replaces what a grants (a reload).
func (a *SinkAccess) Set(s SinkSnapshot) { a.snap.Store(&s) }

// Usable lists the sinks a webhook of company may name, http first.
func (a *SinkAccess) Usable(company int64) []config.Sink {
	return config.UsableSinks(a.snap.Load().Blocks, company)
}

// check tells whether sink name runs in this process (known), and whether
// a webhook of company may deliver through it. A sink this process does
// not run is no one's to grant: delivering through it fails anyway (the
// sink host does not know it), and with replicas another one may run it.
func (a *SinkAccess) check(name string, company int64) (known, allowed bool) {
	s := a.snap.Load()
	if slices.Contains(s.Revoked, name) {
		return true, false
	}
	if b, ok := config.FindSink(s.Blocks, name); ok {
		return true, b.Allows(company)
	}
	return false, false
}

// Forbids reports a known sink that company may not use.
func (a *SinkAccess) Forbids(name string, company int64) bool {
	known, allowed := a.check(name, company)
	return known && !allowed
}

// ReloadedSinks is what Reload lets webhooks use: each running sink with
// the companies list its block has in next. A sink process keeps its type
// and settings until restart, so the running block's type decides whether
// the sink may be open to all; a running sink whose block next removes is
// revoked: no company may use it until the restart stops it.
func ReloadedSinks(running, next []config.Sink) SinkSnapshot {
	var out SinkSnapshot
	for _, r := range running {
		n, ok := config.FindSink(next, r.Name)
		if !ok {
			out.Revoked = append(out.Revoked, r.Name)
			continue
		}
		r.Companies = slices.Clone(n.Companies)
		out.Blocks = append(out.Blocks, r)
	}
	return out
}

// CheckBlockSinks refuses HCL webhook blocks naming a sink their company
// may not use. config.Load reports the same at the sink attribute; this
// guards a config built otherwise, and the running sinks at reload.
func CheckBlockSinks(blocks []config.Webhook, access *SinkAccess) error {
	for _, w := range blocks {
		if !access.Forbids(w.Sink, w.CompanyID) {
			continue // an undeclared sink is reported where its name is checked
		}
		who := "no company may use it"
		if s, ok := config.FindSink(access.snap.Load().Blocks, w.Sink); ok && len(s.Companies) > 0 {
			who = "companies " + config.FormatCompanies(s.Companies) + " only may use it"
		}
		return fmt.Errorf("%s:%d:%d webhook %q: sink %q is not available to company %d: %s",
			w.Range.Filename, w.Range.Start.Line, w.Range.Start.Column, w.Name, w.Sink, w.CompanyID, who)
	}
	return nil
}
