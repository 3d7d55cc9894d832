package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Webhook orderings (ordering) and what a dead letter does to an ordered
// work order's lane (ordering_on_dead); docs/delivery.md, "Ordering".
const (
	OrderingNone      = "none"
	OrderingWorkOrder = "work_order"
	OnDeadContinue    = "continue"
	OnDeadHold        = "hold"
)

// Orderings and OnDeadModes list the valid values.
var (
	Orderings   = []string{OrderingNone, OrderingWorkOrder}
	OnDeadModes = []string{OnDeadContinue, OnDeadHold}
)

// checkOrdering validates ordering and ordering_on_dead, filling in their
// defaults. ordering_on_dead is kept without ordering (it then does
// nothing), as the API keeps it, so turning ordering off and on again
// does not lose it.
func (d *decoder) checkOrdering(w *Webhook, p string, at func(string) hcl.Range) {
	if w.Ordering == "" {
		w.Ordering = OrderingNone
	}
	if !slices.Contains(Orderings, w.Ordering) {
		d.errorf(at("ordering"), fmt.Sprintf("invalid ordering %q for %s", w.Ordering, p),
			"valid orderings: %s%s", quoteList(Orderings), suggest(w.Ordering, Orderings))
	}
	if w.OrderingOnDead == "" {
		w.OrderingOnDead = OnDeadContinue
	}
	if !slices.Contains(OnDeadModes, w.OrderingOnDead) {
		d.errorf(at("ordering_on_dead"), fmt.Sprintf("invalid ordering_on_dead %q for %s", w.OrderingOnDead, p),
			"valid values: %s%s", quoteList(OnDeadModes), suggest(w.OrderingOnDead, OnDeadModes))
	}
}
