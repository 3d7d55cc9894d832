package storetest

import (
	"maps"
	"time"

	"github.com/hookgate/hookgate/store"
)

// testWebhookSigningFields: the rotation and signature-format fields and
// the custom headers survive a write, a read, a list and a reopen (Badger
// seals the secret ones; every store must give them back unchanged).
func testWebhookSigningFields(e *env) {
	t := e.t
	w := e.webhook(4, "a")
	w.PreviousSecret, w.PreviousSecretExpiresAt = "old-s3cret", e.now().Add(time.Hour).UTC()
	w.SignatureFormat = "standard-webhooks"
	w.Headers = map[string]string{"Authorization": "Bearer t0k3n", "X-Api-Key": "k"}
	if err := e.s.PutWebhook(e.ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		got, err := e.s.GetWebhook(e.ctx, w.WebhookID)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		list, err := e.s.ListWebhooks(e.ctx, store.WebhookFilter{CompanyID: 4})
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: list %d, %v", when, len(list), err)
		}
		for _, g := range append(list, got) {
			if g.Secret != "s3cret" || g.PreviousSecret != "old-s3cret" || !g.PreviousSecretExpiresAt.Equal(w.PreviousSecretExpiresAt) ||
				g.SignatureFormat != "standard-webhooks" || !maps.Equal(g.Headers, w.Headers) {
				t.Fatalf("%s: read back %+v", when, g)
			}
		}
	}
	check("after write")
	e.reopen()
	check("after reopen")
}
