package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pacedAPI serves one webhook with a rate limit (and its empty logs and
// history) and hands every other call to fakeAPI; it keeps the last PUT body.
type pacedAPI struct {
	*fakeAPI
	put map[string]any
}

func (p *pacedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/webhooks/wh-paced" && r.Method == http.MethodPut:
		p.put = map[string]any{}
		_ = json.NewDecoder(r.Body).Decode(&p.put)
		_, _ = w.Write([]byte(`{"metadata":{},"result":{"webhookId":"wh-paced"}}`))
	case r.URL.Path == "/api/v1/webhooks/wh-paced":
		_, _ = w.Write([]byte(`{"metadata":{"total":1},"result":{"webhookId":"wh-paced","url":"https://erp.example.com/in","method":"post",` +
			`"status":"active","events":["workorder.created"],"sink":"http","source":"api","rateLimit":"20/s","rateBurst":5,"maxInFlight":2}}`))
	case r.URL.Path == "/api/v1/webhooks/delivery-logs", strings.HasSuffix(r.URL.Path, "/history"):
		_, _ = w.Write([]byte(`{"metadata":{"total":0,"count":0},"result":[]}`))
	default:
		p.fakeAPI.ServeHTTP(w, r)
	}
}

// TestRateLimitOnWebhookPages: the details page shows the rate limit, the
// edit form is filled with it, and saving sends the typed fields (a count
// as a number, an emptied field as null: back to the default).
func TestRateLimitOnWebhookPages(t *testing.T) {
	api := &pacedAPI{fakeAPI: &fakeAPI{}}
	d := New(Options{API: api, Now: func() time.Time { return now }, CSRFKey: []byte("k"), PublicURL: "https://hooks.example.com"})
	tok := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	c, _ := csrfPair(d, "")
	page := serve(d, browserReq("GET", "/ui/webhooks/wh-paced", nil, tok, c))
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "20/s, burst 5; at most 2 at once") {
		t.Fatalf("details page %d does not show the rate limit:\n%s", page.Code, page.Body.String())
	}
	edit := serve(d, browserReq("GET", "/ui/webhooks/wh-paced/edit", nil, tok, c))
	body := edit.Body.String()
	for _, want := range []string{`name="rate_limit" placeholder="none, or 20/s, 600/m, 1000/h" value="20/s"`, `name="rate_burst" inputmode="numeric" placeholder="default" value="5"`,
		`name="max_in_flight" inputmode="numeric" placeholder="default" value="2"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("edit form lacks %s", want)
		}
	}
	csrf := csrfOfPage(t, edit)
	form := url.Values{"csrf": {csrf}, "url": {"https://erp.example.com/in"}, "method": {"post"}, "events": {"workorder.created"},
		"sink": {"http"}, "rate_limit": {"600/m"}, "rate_burst": {"3"}, "max_in_flight": {""}}
	if w := serve(d, browserReq("POST", "/ui/webhooks/wh-paced/edit", form, tok, c)); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body.String())
	}
	mif, cleared := api.put["maxInFlight"]
	if api.put["rateLimit"] != "600/m" || api.put["rateBurst"] != float64(3) || !cleared || mif != nil {
		t.Fatalf("PUT body %v: want rateLimit 600/m, rateBurst 3, maxInFlight null", api.put)
	}
}
