package config

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// CustomSinkType is how listings name the type of a sink declared with
// command (its own binary) rather than a built-in type.
const CustomSinkType = "custom"

// BuiltinSinkBlock is the implicit `sink "http" { type = "http" }`: no
// settings, no credentials, usable by every company.
func BuiltinSinkBlock() Sink { return Sink{Name: BuiltinSink, Type: BuiltinSink} }

// DefaultSinkCPUs is a sink process's GOMAXPROCS when its block sets no
// cpus: half the gateway's own (which follows the GOMAXPROCS environment
// variable and the container's CPU limit), at least 1. A sink mostly waits
// on the network; with as many Ps as the gateway, its idle Ps spin looking
// for work between the short bursts of each exchange: on 2 cores one P
// instead of two cut the http sink's CPU per delivery by ~13–16 %
// (docs/plugins.md, "The host").
func DefaultSinkCPUs() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// ProcessCPUs is the GOMAXPROCS the gateway starts the sink's process
// with: cpus when set, else DefaultSinkCPUs.
func (s *Sink) ProcessCPUs() int {
	if s.CPUs > 0 {
		return s.CPUs
	}
	return DefaultSinkCPUs()
}

// Kind is the sink's type for listings: its built-in type, or "custom".
func (s *Sink) Kind() string {
	if s.Command != "" {
		return CustomSinkType
	}
	return s.Type
}

// Open reports whether every company may use the sink. Only an http sink
// without a companies list is open: the http sink takes no settings, so it
// holds no credentials, while a servicenow, salesforce or custom sink
// delivers with the credentials of whoever configured it.
func (s *Sink) Open() bool { return s.Type == BuiltinSink && s.Command == "" && len(s.Companies) == 0 }

// Allows reports whether a webhook of company may name the sink. A sink
// that needs a companies list and has none allows nobody (fail closed).
func (s *Sink) Allows(company int64) bool {
	return s.Open() || slices.Contains(s.Companies, company)
}

// UsableSinks lists the sinks a webhook of company may name, from the
// declared blocks: the built-in http sink first, then the blocks that allow
// the company in file order.
func UsableSinks(blocks []Sink, company int64) []Sink {
	out := []Sink{BuiltinSinkBlock()}
	for _, s := range blocks {
		if s.Name != BuiltinSink && s.Allows(company) {
			out = append(out, s)
		}
	}
	return out
}

// FindSink returns the block named name among blocks, the built-in http
// sink's for "http", and whether there is one. The block is a copy, so
// that asking for the built-in sink, which every delivery through it does,
// puts nothing on the heap.
func FindSink(blocks []Sink, name string) (Sink, bool) {
	for i := range blocks {
		if blocks[i].Name == name {
			return blocks[i], true
		}
	}
	if name == BuiltinSink {
		return BuiltinSinkBlock(), true
	}
	return Sink{}, false
}

// FormatCompanies lists company ids as "100, 200" for messages.
func FormatCompanies(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// checkSinkCompanies validates the companies list of a sink block whose
// kind is known (a valid type, or a command): ids greater than 0, each
// once, and a list at all unless the sink is of type http.
func (d *decoder) checkSinkCompanies(s *Sink, p string) {
	rng, written := d.ranges[attrPath(p, "companies")]
	if !written {
		if s.Type != BuiltinSink {
			what := "a " + s.Type + " sink delivers with the credentials in its config"
			if s.Command != "" {
				what = "a custom sink (command) may deliver with credentials of its own"
			}
			d.errorf(s.Range, p+" has no companies list",
				"%s, so it must name the companies whose webhooks may use it, such as companies = [100]; only sinks of type \"http\" may leave it out (they are open to every company)", what)
		}
		return
	}
	if d.reportedWithin(rng) {
		return // not a list of whole numbers: said already
	}
	if len(s.Companies) == 0 {
		hint := ""
		if s.Type == BuiltinSink {
			hint = ", or leave companies out to let every company use this http sink"
		}
		d.errorf(rng, "empty companies list for "+p, "list the company ids whose webhooks may use it, such as companies = [100]%s", hint)
		return
	}
	seen := map[int64]bool{}
	for _, id := range s.Companies {
		switch {
		case id <= 0:
			d.errorf(rng, fmt.Sprintf("invalid company id %d in companies of %s", id, p), "company ids are numbers greater than 0")
		case seen[id]:
			d.errorf(rng, fmt.Sprintf("duplicate company id %d in companies of %s", id, p), "list each company once")
		}
		seen[id] = true
	}
}

// reportedWithin tells whether an error was already reported inside rng.
func (d *decoder) reportedWithin(rng hcl.Range) bool {
	return slices.ContainsFunc(d.diags, func(dg *hcl.Diagnostic) bool {
		return dg.Severity == hcl.DiagError && dg.Subject != nil && rng.Overlaps(*dg.Subject)
	})
}

// checkWebhookSinkAccess reports a webhook block naming a declared sink its
// company may not use, at the webhook's sink attribute. A sink with no
// companies list that needs one is reported at the sink block already.
func (d *decoder) checkWebhookSinkAccess(w *Webhook, s *Sink, p string, rng hcl.Range) {
	if s.Allows(w.CompanyID) || len(s.Companies) == 0 {
		return
	}
	d.errorf(rng, fmt.Sprintf("sink %q is not available to company %d of %s", w.Sink, w.CompanyID, p),
		"sink %q (%s) may be used by companies %s only; add %d to its companies list, or choose another sink",
		s.Name, where(s.Range), FormatCompanies(s.Companies), w.CompanyID)
}
