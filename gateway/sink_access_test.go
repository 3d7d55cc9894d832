package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
	"github.com/hookgate/hookgate/store"
)

// snowTemplate builds the record a servicenow sink upserts.
const snowTemplate = `{"correlation_id": $string(workorder.id), "short_description": workorder.title}`

// sinkConfig is apiConfig with a servicenow sink of acme (company 100) at
// instance, one of globex (200) elsewhere, and an http sink block open to
// every company.
func sinkConfig(t *testing.T, instance string) *config.Config {
	cfg := gatewaytest.APIConfig(t)
	snow := func(name, url string, company int64) config.Sink {
		return config.Sink{Name: name, Type: "servicenow", Companies: []int64{company}, Settings: map[string]string{
			"instance_url": url, "table": "incident", "correlation_field": "correlation_id",
			"auth": "basic", "username": "hookgate", "password": "pw-" + name}}
	}
	cfg.Sinks = []config.Sink{snow("snow-acme", instance, 100), snow("snow-globex", "https://globex.service-now.com", 200),
		{Name: "relay", Type: "http"}}
	return cfg
}

// sinkHook is a create body naming sink.
func sinkHook(sink string) map[string]any {
	h := gatewaytest.NewHook("https://acme.service-now.com/", "workorder.created")
	h["sink"], h["payloadTemplate"] = sink, snowTemplate
	return h
}

// seedFor is the seed envelope published for company.
func seedFor(t *testing.T, event, company string) []byte {
	var m map[string]any
	if err := json.Unmarshal(gatewaytest.Seed(t, event), &m); err != nil {
		t.Fatal(err)
	}
	m["event"].(map[string]any)["params"].(map[string]any)["work_order_company_id"] = company
	out, _ := json.Marshal(m)
	return out
}

// TestSinkOfAnotherCompanyIsUnknown: globex may not create or update a
// webhook with acme's servicenow sink, and the 400 is the one an unknown
// name gets: it lists globex's sinks only and never names acme's.
func TestSinkOfAnotherCompanyIsUnknown(t *testing.T) {
	tg := startAPIGateway(t, sinkConfig(t, "https://acme.service-now.com"))
	acme, globex := tg.Token("acme", "acme-secret"), tg.Token("globex-admin", "globex-admin-secret")
	tg.Create(acme, sinkHook("snow-acme")) // its own company's sink

	forbidden := tg.Must(400, "POST", "/api/v1/webhooks", globex, sinkHook("snow-acme")).ErrMessage()
	unknown := tg.Must(400, "POST", "/api/v1/webhooks", globex, sinkHook("no-such-sink")).ErrMessage()
	check := func(what, msg string) {
		t.Helper()
		if strings.Contains(msg, "snow-acme") || !strings.Contains(msg, `"http", "snow-globex", "relay"`) {
			t.Errorf("%s: %q, want globex's sinks only and no word of acme's", what, msg)
		}
	}
	check("create", forbidden)
	if forbidden != unknown {
		t.Errorf("another company's sink is told apart from an unknown one:\n %q\n %q", forbidden, unknown)
	}

	own := tg.Create(globex, sinkHook("snow-globex"))["webhookId"].(string)
	check("update", tg.Must(400, "PUT", "/api/v1/webhooks/"+own, globex, map[string]any{"sink": "snow-acme"}).ErrMessage())
	if got := tg.Must(200, "GET", "/api/v1/webhooks/"+own, globex, nil).Result()["sink"]; got != "snow-globex" {
		t.Errorf("sink after the refused update: %v", got)
	}
}

// TestListSinksScoped: GET /api/v1/sinks lists the caller's usable sinks by
// name and type, never their settings nor another company's.
func TestListSinksScoped(t *testing.T) {
	tg := startAPIGateway(t, sinkConfig(t, "https://acme.service-now.com"))
	list := func(token string) ([]string, gatewaytest.Response) {
		r := tg.Must(200, "GET", "/api/v1/sinks", token, nil)
		var out []string
		for _, s := range r.List() {
			out = append(out, s["name"].(string)+":"+s["type"].(string))
		}
		return out, r
	}
	for _, c := range []struct {
		client, secret string
		want           []string
	}{
		{"acme", "acme-secret", []string{"http:http", "snow-acme:servicenow", "relay:http"}},
		{"reader", "reader-secret", []string{"http:http", "snow-acme:servicenow", "relay:http"}},
		{"globex-admin", "globex-admin-secret", []string{"http:http", "snow-globex:servicenow", "relay:http"}},
	} {
		got, r := list(tg.Token(c.client, c.secret))
		if !slices.Equal(got, c.want) || r.MetaInt("total") != len(c.want) {
			t.Errorf("%s: %v (total %d), want %v", c.client, got, r.MetaInt("total"), c.want)
		}
		for _, secret := range []string{"instance_url", "service-now.com", "pw-", "companies", "settings"} {
			if strings.Contains(string(r.Raw), secret) {
				t.Errorf("%s: the list shows %q: %s", c.client, secret, r.Raw)
			}
		}
	}
	if r := tg.Call("GET", "/api/v1/sinks", tg.Token("globex", "globex-secret"), nil); r.Status != 403 {
		t.Errorf("publish-only token: %d %s", r.Status, r.Raw)
	}
}

// TestDeliveryRefusesForbiddenSink: a webhook of globex that names acme's
// servicenow sink (stored directly, as an older version or another
// replica's config might have left it) fails without retry and never
// reaches acme's instance; globex's log holds none of acme's records.
func TestDeliveryRefusesForbiddenSink(t *testing.T) {
	fake := snowfake.New(snowfake.Options{Username: "hookgate", Password: "pw-snow-acme"})
	defer fake.Close()
	tg := startAPIGateway(t, sinkConfig(t, fake.URL))
	acme := tg.Token("acme", "acme-secret")
	mine := tg.Create(acme, sinkHook("snow-acme"))["webhookId"].(string)
	tg.Publish(acme, gatewaytest.Seed(t, "workorder.created"))
	tg.WaitDelivery(mine, store.DeliverySucceeded) // the instance is reachable
	before := len(fake.Requests())

	w := tg.AddWebhook(&store.Webhook{CompanyID: 200, URL: "https://globex.example.com/", Events: []string{"workorder.created"},
		Sink: "snow-acme", PayloadTemplate: snowTemplate})
	tg.Publish(tg.Token("globex", "globex-secret"), seedFor(t, "workorder.created", "200"))
	d := tg.WaitDelivery(w.WebhookID, store.DeliveryDead)
	if d.Attempts != 1 || !strings.Contains(d.LastError, `sink "snow-acme" is not available to company 200: not sent`) {
		t.Errorf("delivery %d attempts, error %q", d.Attempts, d.LastError)
	}
	if n := len(fake.Requests()); n != before {
		t.Errorf("acme's instance got %d requests from globex's webhook", n-before)
	}
	logs := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+w.WebhookID, tg.Token("globex-admin", "globex-admin-secret"), nil)
	if len(logs.List()) != 1 || strings.Contains(string(logs.Raw), "sys_id") {
		t.Errorf("globex's log: %s", logs.Raw)
	}
}

// TestReloadRevokesSink: a reload that takes a company off a sink's list
// refuses an HCL block of that company naming the sink (nothing applied),
// and deactivates its API webhooks using it, with the reason in history;
// reactivating needs another sink. A reload that grants access applies at
// once too; a removed sink block revokes the sink for every company.
func TestReloadRevokesSink(t *testing.T) {
	cfg := sinkConfig(t, "https://acme.service-now.com")
	tg := startAPIGateway(t, cfg)
	acme := tg.Token("acme", "acme-secret")
	id := tg.Create(acme, sinkHook("snow-acme"))["webhookId"].(string)
	other := tg.Create(acme, sinkHook("relay"))["webhookId"].(string)

	next := *cfg
	next.Sinks = slices.Clone(cfg.Sinks)
	next.Sinks[0].Companies = []int64{300}
	bad := next
	block := hclWebhook("erp", "https://erp.example.com/h", 12)
	block.Range.Start.Column, block.Sink = 1, "snow-acme"
	bad.Webhooks = []config.Webhook{block}
	if _, err := tg.G.Reload(context.Background(), &bad); err == nil ||
		!strings.Contains(err.Error(), `gateway.hcl:12:1 webhook "erp": sink "snow-acme" is not available to company 100: companies 300 only may use it`) {
		t.Fatalf("reload with a block naming a forbidden sink: %v", err)
	}
	if st := tg.Must(200, "GET", "/api/v1/webhooks/"+id, acme, nil).Result()["status"]; st != "active" {
		t.Fatalf("a refused reload changed the webhook: %v", st)
	}

	sum, err := tg.G.Reload(context.Background(), &next)
	if err != nil || sum.Deactivated != 1 {
		t.Fatalf("reload: %+v, %v", sum, err)
	}
	if st := tg.Must(200, "GET", "/api/v1/webhooks/"+id, acme, nil).Result()["status"]; st != "inactive" {
		t.Errorf("webhook on the revoked sink is %v", st)
	}
	if st := tg.Must(200, "GET", "/api/v1/webhooks/"+other, acme, nil).Result()["status"]; st != "active" {
		t.Errorf("webhook on an open sink is %v", st)
	}
	hist := tg.History(acme, id)
	last := hist[len(hist)-1]
	if last["action"] != "status_changed" || last["userId"] != 0.0 ||
		!strings.Contains(last["reason"].(string), `sink "snow-acme" is not available to company 100`) {
		t.Errorf("history %v", last)
	}
	if msg := tg.Must(400, "PUT", "/api/v1/webhooks/"+id, acme, map[string]any{"status": "active"}).ErrMessage(); !strings.Contains(msg, "'sink'") {
		t.Errorf("reactivating on the revoked sink: %q", msg)
	}
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, acme, map[string]any{"status": "active", "sink": "relay"})

	granted := next
	granted.Sinks = slices.Clone(next.Sinks)
	granted.Sinks[0].Companies = []int64{300, 100}
	if _, err := tg.G.Reload(context.Background(), &granted); err != nil {
		t.Fatal(err)
	}
	tg.Create(acme, sinkHook("snow-acme"))

	// A sink block the reload removes still runs until restart, and no
	// company may use it any more, open http sink or not.
	removed := granted
	removed.Sinks = granted.Sinks[:2]
	if sum, err := tg.G.Reload(context.Background(), &removed); err != nil || sum.Deactivated != 2 {
		t.Fatalf("reload without the relay block: %+v, %v", sum, err)
	}
	for _, w := range []string{id, other} {
		if st := tg.Must(200, "GET", "/api/v1/webhooks/"+w, acme, nil).Result()["status"]; st != "inactive" {
			t.Errorf("webhook on the removed sink is %v", st)
		}
	}
	if msg := tg.Must(400, "POST", "/api/v1/webhooks", acme, sinkHook("relay")).ErrMessage(); strings.Contains(msg, "relay") {
		t.Errorf("the removed sink is still offered: %q", msg)
	}
}

// TestStartRevokesSink: a list narrowed while the gateway was stopped
// deactivates the API webhooks that lost their sink at the next start.
func TestStartRevokesSink(t *testing.T) {
	cfg := sinkConfig(t, "https://acme.service-now.com")
	cfg.Storage.Path = filepath.Join(t.TempDir(), "data")
	tg, stop := runGateway(t, cfg)
	acme := tg.Token("acme", "acme-secret")
	id := tg.Create(acme, sinkHook("snow-acme"))["webhookId"].(string)
	stop()

	cfg.Sinks[0].Companies = []int64{300}
	tg, stop = runGateway(t, cfg)
	defer stop()
	acme = tg.Token("acme", "acme-secret")
	if st := tg.Must(200, "GET", "/api/v1/webhooks/"+id, acme, nil).Result()["status"]; st != "inactive" {
		t.Errorf("after a restart without access to its sink the webhook is %v", st)
	}
	hist := tg.History(acme, id)
	if r, _ := hist[len(hist)-1]["reason"].(string); !strings.Contains(r, `sink "snow-acme" is not available to company 100 under test.hcl`) {
		t.Errorf("history reason %q", r)
	}
}

// TestDashboardOffersOnlyUsableSinks: the dashboard's sink field lists the
// sinks of the signed-in company, from the API, and no other.
func TestDashboardOffersOnlyUsableSinks(t *testing.T) {
	tg := startAPIGateway(t, sinkConfig(t, "https://acme.service-now.com"))
	globex := tg.Token("globex-admin", "globex-admin-secret")
	own := tg.Create(globex, sinkHook("snow-globex"))["webhookId"].(string)
	page := func(path string) string {
		req, _ := http.NewRequest("GET", tg.Base+path, nil)
		req.AddCookie(&http.Cookie{Name: "hookgate_token", Value: globex})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	for path, selected := range map[string]string{"/ui/webhooks": `<option value="http" selected>`,
		"/ui/webhooks/" + own + "/edit": `<option value="snow-globex" selected>`} {
		html := page(path)
		for _, want := range []string{selected, `<option value="snow-globex"`, `<option value="relay"`, `<option value="http"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		for _, not := range []string{"snow-acme", "salesforce"} {
			if strings.Contains(html, not) {
				t.Errorf("%s offers %s", path, not)
			}
		}
	}
}
