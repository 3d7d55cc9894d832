package config

import "testing"

func TestOrderingAttributes(t *testing.T) {
	cfg := mustParse(t, hookWith("https://example.com/in", "  ordering = \"work_order\"\n  ordering_on_dead = \"hold\"\n"), nil)
	if w := cfg.Webhooks[0]; w.Ordering != OrderingWorkOrder || w.OrderingOnDead != OnDeadHold {
		t.Errorf("webhook ordering %q on dead %q", w.Ordering, w.OrderingOnDead)
	}
	if w := mustParse(t, hookWith("https://example.com/in", ""), nil).Webhooks[0]; w.Ordering != OrderingNone || w.OrderingOnDead != OnDeadContinue {
		t.Errorf("defaults: ordering %q on dead %q, want none and continue", w.Ordering, w.OrderingOnDead)
	}
	_, diags := parse(t, hookWith("https://example.com/in", "  ordering = \"workorder\"\n  ordering_on_dead = \"stop\"\n"), nil)
	expectDiags(t, diags,
		`t.hcl:5:3: invalid ordering "workorder" for webhook "w": valid orderings: "none", "work_order". Did you mean "work_order"?`,
		`t.hcl:6:3: invalid ordering_on_dead "stop" for webhook "w": valid values: "continue", "hold"`)
}
