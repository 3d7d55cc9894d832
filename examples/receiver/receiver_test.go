package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/signature"
)

const (
	secretNew = "01999f51-5c66-4449-b441-6b4a053fee6a"
	secretOld = "6f0c2d4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"
	uuid      = "3f1e0c2a-9b8d-4c7e-a6f5-1d2e3f4a5b6c"
	body      = `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T14:55:58Z"}`
)

var now = time.Date(2026, 1, 20, 14, 56, 0, 0, time.UTC)

// fnRequest is a delivery as hookgate sends it in the "fn" format, signed
// with each secret in turn (several during a rotation: newest first).
func fnRequest(attempt int, sentAt time.Time, b string, secrets ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(b))
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = signature.Sign(s, []byte(b))
	}
	r.Header.Set("X-FN-Signature", strings.Join(sigs, ","))
	r.Header.Set("X-FN-Delivery-Id", uuid+":"+strconv.Itoa(attempt))
	r.Header.Set("X-FN-Request-Timestamp", strconv.FormatInt(sentAt.UnixMilli(), 10))
	r.Header.Set("X-FN-Event-Name", "workorder.created")
	return r
}

// standardRequest adds the Standard Webhooks headers to an fn request.
func standardRequest(attempt int, sentAt time.Time, b string, secrets ...string) *http.Request {
	r := fnRequest(attempt, sentAt, b, secrets...)
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = signature.SignStandard(s, uuid, sentAt, []byte(b))
	}
	r.Header.Set("webhook-id", uuid)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(sentAt.Unix(), 10))
	r.Header.Set("webhook-signature", strings.Join(sigs, " "))
	return r
}

func newReceiver(handled *[]Delivery, secrets ...string) *Receiver {
	return &Receiver{Secrets: secrets, Now: func() time.Time { return now }, Handle: func(d Delivery) error {
		*handled = append(*handled, d)
		return nil
	}}
}

func serve(rc *Receiver, r *http.Request) int {
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	return w.Code
}

func TestReceiverVerifiesBothFormatsAndDeduplicates(t *testing.T) {
	for _, format := range []struct {
		name string
		req  func(int, time.Time, string, ...string) *http.Request
	}{{"fn", fnRequest}, {"standard-webhooks", standardRequest}} {
		t.Run(format.name, func(t *testing.T) {
			var handled []Delivery
			rc := newReceiver(&handled, secretNew)
			if code := serve(rc, format.req(1, now, body, secretNew)); code != 200 {
				t.Fatalf("a valid delivery: %d", code)
			}
			// A retry (next attempt) and a re-send of the same attempt are
			// acknowledged but not processed again.
			if code := serve(rc, format.req(2, now, body, secretNew)); code != 200 {
				t.Fatalf("a retry: %d", code)
			}
			if code := serve(rc, format.req(1, now, body, secretNew)); code != 200 {
				t.Fatalf("a re-send: %d", code)
			}
			if len(handled) != 1 || handled[0].UUID != uuid || string(handled[0].Body) != body {
				t.Fatalf("handled %d deliveries: %+v", len(handled), handled)
			}
			refused := map[string]*http.Request{
				"another secret":  format.req(1, now, body, "00000000-0000-4000-8000-000000000000"),
				"a stale replay":  format.req(1, now.Add(-10*time.Minute), body, secretNew),
				"from the future": format.req(1, now.Add(10*time.Minute), body, secretNew),
			}
			// Tampered: signed over the body, delivered with another.
			tampered := format.req(1, now, body, secretNew)
			tampered.Body = io.NopCloser(strings.NewReader(body + " "))
			refused["tampered body"] = tampered
			for name, r := range refused {
				if code := serve(newReceiver(&handled, secretNew), r); code != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401", name, code)
				}
			}
		})
	}
}

// TestReceiverDuringRotation: hookgate signs with the new and the old
// secret during the grace period, so a receiver holding either verifies,
// and one holding both (switching over) does too.
func TestReceiverDuringRotation(t *testing.T) {
	for _, held := range [][]string{{secretOld}, {secretNew}, {secretNew, secretOld}} {
		for _, req := range []func(int, time.Time, string, ...string) *http.Request{fnRequest, standardRequest} {
			var handled []Delivery
			if code := serve(newReceiver(&handled, held...), req(1, now, body, secretNew, secretOld)); code != 200 || len(handled) != 1 {
				t.Errorf("receiver holding %d secret(s): %d, handled %d", len(held), code, len(handled))
			}
		}
	}
	// After the grace only the new secret signs: a receiver still on the old one is refused.
	var handled []Delivery
	if code := serve(newReceiver(&handled, secretOld), fnRequest(1, now, body, secretNew)); code != http.StatusUnauthorized {
		t.Errorf("old secret after the grace: %d", code)
	}
}

func TestReceiverHandlerErrorIsRetried(t *testing.T) {
	calls := 0
	rc := &Receiver{Secrets: []string{secretNew}, Now: func() time.Time { return now }, Handle: func(Delivery) error {
		calls++
		if calls == 1 {
			return http.ErrHandlerTimeout
		}
		return nil
	}}
	if code := serve(rc, fnRequest(1, now, body, secretNew)); code != 500 {
		t.Fatalf("first: %d", code)
	}
	if code := serve(rc, fnRequest(2, now, body, secretNew)); code != 200 || calls != 2 {
		t.Fatalf("the retry after a failure is processed: %d, calls %d", code, calls)
	}
}
