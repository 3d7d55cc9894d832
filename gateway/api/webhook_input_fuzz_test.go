package api

import (
	"testing"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// The seed corpora live in testdata/fuzz/<target>/; `make fuzz` (part of
// `make test`) runs each target for FUZZTIME on top of them.

// FuzzWebhookBody runs a create body and an update body through the API's
// own parse, required-field and validation steps: never a panic, and every
// refusal a 400 with a message.
func FuzzWebhookBody(f *testing.F) {
	f.Add([]byte(`{"url":"https://example.com/hook","method":"post","status":"active","events":["workorder.created"]}`))
	f.Add([]byte(`{"url":"https://example.com/{{ workorder.id }}","method":"put","status":"inactive","events":"workorder.created,workorder.routed","secret":"01999f51-5c66-4449-b441-6b4a053fee6a","notificationEmail":"ops@example.com","modelProperties":["id"],"payloadTemplate":"{ \"id\": workorder.id }","webhookAttribute":{"header":{"X-Api-Key":"k"}}}`))
	f.Add([]byte(`{"webhookAttribute":{"header":{"X-Remove":null}},"payloadTemplate":null}`))
	f.Add([]byte(`{"events":[]}`))
	f.Add([]byte(`null`))
	cfg := config.Defaults()
	s := &Server{cfg: &cfg, sinkAccess: webhooks.NewSinkAccess(webhooks.SinkSnapshot{Blocks: cfg.Sinks})}
	refused := func(t *testing.T, step string, err error) {
		t.Helper()
		if status, msg, _, ok := ClientError(err); !ok || status != 400 || msg == "" {
			t.Fatalf("%s: refusal is not a 400 with a message: %#v", step, err)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := parseWebhookInput(raw)
		if err != nil {
			refused(t, "parse", err)
			return
		}
		// As an update of an existing webhook.
		cur := &store.Webhook{URL: "https://example.com/a", Method: "post", Status: store.StatusActive,
			Events: []string{"workorder.created"}, Secret: "01999f51-5c66-4449-b441-6b4a053fee6a", Sink: "http",
			Headers: map[string]string{"X-Old": "1"}}
		in.apply(cur)
		if err := s.validateWebhook(cur); err != nil {
			refused(t, "update", err)
		}
		// As a create.
		if err := in.required(); err != nil {
			refused(t, "create", err)
			return
		}
		w := &store.Webhook{Sink: "http", Secret: "01999f51-5c66-4449-b441-6b4a053fee6a"}
		in.apply(w)
		if err := s.validateWebhook(w); err != nil {
			refused(t, "create", err)
		}
	})
}
