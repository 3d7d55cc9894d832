package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestBodyLimits: delivery.max_body and delivery_log.max_body are read,
// and out-of-range values are refused at their file:line:col.
func TestBodyLimits(t *testing.T) {
	cfg := mustParse(t, "delivery {\n  max_body = 2048\n}\ndelivery_log {\n  max_body = 0\n}\n", nil)
	if cfg.Delivery.MaxBody != 2048 || cfg.DeliveryLog.MaxBody != 0 {
		t.Errorf("max_body %d, delivery_log.max_body %d", cfg.Delivery.MaxBody, cfg.DeliveryLog.MaxBody)
	}
	_, diags := parse(t, "delivery {\n  max_body = 0\n}\ndelivery_log {\n  max_body = -1\n}\n", nil)
	expectDiags(t, diags,
		`t.hcl:2:3: invalid delivery.max_body: 0: must be between 1 and 33554432 bytes`,
		`t.hcl:5:3: invalid delivery_log.max_body: -1: must be at least 0`)
	_, diags = parse(t, "delivery {\n  max_body = 33554433\n}\n", nil)
	expectDiags(t, diags, `t.hcl:2:3: invalid delivery.max_body: 33554433: must be between 1 and 33554432 bytes`)
}

// TestReservedHeadersAnyCase (issue 12, finding 10): a webhook block may not
// set a header the gateway sets itself, in any case: Content-Type, X-FN-*
// and the Standard Webhooks headers.
func TestReservedHeadersAnyCase(t *testing.T) {
	for _, name := range []string{"content-type", "CONTENT-TYPE", "Content-Type", "x-fn-signature", "X-Fn-Delivery-Id", "WEBHOOK-ID", "webhook-signature", "Webhook-Timestamp"} {
		_, diags := parse(t, hookWith("https://example.com/in", "  headers = { \""+name+"\" = \"v\" }\n"), nil)
		expectDiags(t, diags, `t.hcl:5:3: reserved header "`+name+`" in webhook "w"`)
	}
	mustParse(t, hookWith("https://example.com/in", "  headers = { \"Accept\" = \"v\", \"X-Api-Key\" = \"k\" }\n"), nil)
	for _, name := range []string{"Content-Type", "x-fn-anything", "webhook-id"} {
		if !ReservedHeader(name) || ReservedHeader("x-"+name) {
			t.Errorf("ReservedHeader(%q) / (x-%s) wrong", name, name)
		}
	}
}

// TestURLPlaceholderOnlyAfterHost (issue 12, finding 8): a webhook block
// whose url template could change the scheme, host, port or userinfo is
// refused at the url attribute, naming the character of the placeholder.
func TestURLPlaceholderOnlyAfterHost(t *testing.T) {
	for _, u := range []string{"https://example.com{{ x }}/", "https://{{ workorder.id }}.example.com/in", "https://example.com:{{ x }}/", "https://{{ x }}@example.com/"} {
		_, diags := parse(t, hookWith(u, ""), nil)
		expectDiags(t, diags, `t.hcl:3:3: url template of webhook "w" could change where deliveries go: a {{ placeholder }} may only appear in the path, query or fragment`)
		if len(diags) == 1 && !strings.Contains(diags[0], fmt.Sprintf("(at character %d of the url)", strings.Index(u, "{{"))) {
			t.Errorf("%s: %s", u, diags[0])
		}
	}
	mustParse(t, hookWith("https://example.com/{{ workorder.id }}?q={{ event.name }}", ""), nil)
}
