package webhooks

import (
	"slices"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// ActionOrderingChanged is the history action of a change of ordering or
// of ordering_on_dead: a change of how a webhook's deliveries go out.
const ActionOrderingChanged = "ordering_changed"

// OrderingOf reads a stored ordering; webhooks stored before orderings
// existed have none, which is "none".
func OrderingOf(w *store.Webhook) string {
	if w.Ordering == "" {
		return config.OrderingNone
	}
	return w.Ordering
}

// OnDeadOf reads a stored ordering_on_dead; "" is "continue".
func OnDeadOf(w *store.Webhook) string {
	if w.OrderingOnDead == "" {
		return config.OnDeadContinue
	}
	return w.OrderingOnDead
}

func checkOrdering(w *store.Webhook) error {
	if w.Ordering != "" && !slices.Contains(config.Orderings, w.Ordering) {
		return invalid("ordering", "'ordering' must be \"none\" or \"work_order\", not "+quote(w.Ordering))
	}
	if w.OrderingOnDead != "" && !slices.Contains(config.OnDeadModes, w.OrderingOnDead) {
		return invalid("orderingOnDead", "'orderingOnDead' must be \"continue\" or \"hold\", not "+quote(w.OrderingOnDead))
	}
	return nil
}

// orderingChanges is the ordering_changed entry's changes, nil when
// neither field changed.
func orderingChanges(old, next *store.Webhook) map[string]any {
	m := map[string]any{}
	if a, b := OrderingOf(old), OrderingOf(next); a != b {
		m["ordering"] = fromTo(a, b)
	}
	if a, b := OnDeadOf(old), OnDeadOf(next); a != b {
		m["orderingOnDead"] = fromTo(a, b)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
