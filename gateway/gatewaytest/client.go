package gatewaytest

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
)

// APIConfig is Config with a rate limit no test walk reaches (the
// manual clock does not refill buckets) and a second company's writer.
func APIConfig(t *testing.T) *config.Config {
	cfg := Config(t)
	cfg.API.RateLimit, cfg.API.RateBurst = 1_000_000, 1_000_000
	cfg.Auth.Clients = append(cfg.Auth.Clients,
		config.Client{ID: "globex-admin", Secret: "globex-admin-secret", CompanyID: 200, UserID: 8,
			Scopes: []string{api.ScopeWebhooksRead, api.ScopeWebhooksWrite}},
		config.Client{ID: "writer", Secret: "writer-secret", CompanyID: 100, UserID: 11,
			Scopes: []string{api.ScopeWebhooksWrite}},
	)
	return cfg
}

// Call sends body (marshalled unless it is a string or []byte) and decodes the answer.
func (tg *Harness[G]) Call(method, path, token string, body any) Response {
	tg.T.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			tg.T.Fatal(err)
		}
	}
	return tg.Do(method, path, token, raw, nil)
}

// must calls and requires status want, returning the result.
func (tg *Harness[G]) Must(want int, method, path, token string, body any) Response {
	tg.T.Helper()
	r := tg.Call(method, path, token, body)
	if r.Status != want {
		tg.T.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Raw, want)
	}
	return r
}

// Result is the envelope's result object.
func (r Response) Result() map[string]any {
	m, _ := r.Body["result"].(map[string]any)
	return m
}

// List is the envelope's result list.
func (r Response) List() []map[string]any {
	items, _ := r.Body["result"].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)
	}
	return out
}

// Meta is the envelope's metadata.
func (r Response) Meta() map[string]any {
	m, _ := r.Body["metadata"].(map[string]any)
	return m
}

// MetaInt is a number of the metadata.
func (r Response) MetaInt(k string) int {
	f, _ := r.Meta()[k].(float64)
	return int(f)
}

// NewHook is a valid create body for url.
func NewHook(url string, events ...string) map[string]any {
	if len(events) == 0 {
		events = []string{"workorder.status.published"}
	}
	return map[string]any{"url": url, "method": "post", "status": "active", "events": events}
}

// Create posts a webhook and returns its result object.
func (tg *Harness[G]) Create(token string, body map[string]any) map[string]any {
	tg.T.Helper()
	return tg.Must(200, "POST", "/api/v1/webhooks", token, body).Result()
}

// History returns a webhook's history, oldest first.
func (tg *Harness[G]) History(token, id string) []map[string]any {
	tg.T.Helper()
	return tg.Must(200, "GET", "/api/v1/webhooks/"+id+"/history?sortDirection=ASC&perPage=500", token, nil).List()
}

// Strs is a JSON array of strings as a slice.
func Strs(v any) []string {
	items, _ := v.([]any)
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it.(string)
	}
	return out
}

// JSONText is v as JSON.
func JSONText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// DeliveryIDRe matches an X-FN-Delivery-Id (uuid:attempt); the submatch is
// the attempt.
var DeliveryIDRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:([0-9]+)$`)

// JSONMarshal is json.Marshal, for tests that pass it as a func.
func JSONMarshal(v any) ([]byte, error) { return json.Marshal(v) }
