package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSinkFieldListsTheAPIsSinks: the create form offers exactly the sinks
// GET /api/v1/sinks answers for the user, not a fixed list of types.
func TestSinkFieldListsTheAPIsSinks(t *testing.T) {
	d, api := newTestDashboard(false)
	w := serve(d, browserReq("GET", "/ui/webhooks", nil, &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}))
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("/ui/webhooks: %d %s", w.Code, body)
	}
	for _, want := range []string{`<option value="http" selected>http (http)</option>`, `<option value="snow-b">snow-b (servicenow)</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(body, "salesforce") || !strings.Contains(strings.Join(api.calls, ","), "GET /api/v1/sinks") {
		t.Errorf("sinks not from the API: calls %v", api.calls)
	}

	// A webhook's current sink its company lost stays shown, marked.
	got, err := sinkChoices(context.Background(), &apiClient{h: api, token: fakeJWT(now.Add(time.Hour))}, "snow-gone")
	if err != nil || len(got) != 3 || got[2] != (sinkChoice{Name: "snow-gone", Selected: true, Unavailable: true}) || got[0].Selected {
		t.Errorf("choices %+v, %v", got, err)
	}
}
