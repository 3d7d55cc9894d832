package signature

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

type standardVector struct {
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
}

func loadStandardVectors(t *testing.T) []standardVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/standard-webhooks.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []standardVector
	if err := json.Unmarshal(raw, &vs); err != nil || len(vs) == 0 {
		t.Fatalf("vectors: %v (%d)", err, len(vs))
	}
	return vs
}

// TestSignStandardMatchesSpecVector: the spec's published example, keyed
// with the bytes its whsec_ secret decodes to.
func TestSignStandardMatchesSpecVector(t *testing.T) {
	for _, v := range loadStandardVectors(t) {
		key, err := StandardKey(v.Secret)
		if err != nil {
			t.Fatal(err)
		}
		got := SignStandard(string(key), v.ID, time.Unix(v.Timestamp, 0), []byte(v.Body))
		if got != v.Signature {
			t.Errorf("SignStandard = %s, want %s", got, v.Signature)
		}
		ts := strconv.FormatInt(v.Timestamp, 10)
		if err := VerifyStandard(string(key), []byte(v.Body), v.ID, ts, v.Signature, time.Unix(v.Timestamp, 0), DefaultTolerance); err != nil {
			t.Errorf("VerifyStandard: %v", err)
		}
	}
}

// TestStandardAgainstSpecLibrary: what hookgate sends for a UUID secret
// verifies with the spec's own Go library given StandardSecret(secret), and
// the library's signature equals ours, during a rotation too.
func TestStandardAgainstSpecLibrary(t *testing.T) {
	const secret, old = "01999f51-5c66-4449-b441-6b4a053fee6a", "6f0c2d4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"
	id, now, body := "3f1e0c2a-9b8d-4c7e-a6f5-1d2e3f4a5b6c", time.Now(), []byte(`{"event":{"name":"workorder.created"}}`)
	lib, err := standardwebhooks.NewWebhook(StandardSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	libSig, err := lib.Sign(id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	ours := SignStandard(secret, id, now, body)
	if libSig != ours {
		t.Fatalf("library signs %s, hookgate %s", libSig, ours)
	}
	h := http.Header{}
	h.Set(HeaderStandardID, id)
	h.Set(HeaderStandardTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderStandardSignature, ours+" "+SignStandard(old, id, now, body)) // rotation: newest first
	if err := lib.Verify(body, h); err != nil {
		t.Fatalf("library rejects hookgate's headers: %v", err)
	}
	oldLib, _ := standardwebhooks.NewWebhook(StandardSecret(old))
	if err := oldLib.Verify(body, h); err != nil {
		t.Fatalf("a receiver still on the old secret is rejected during the grace: %v", err)
	}
	if err := lib.Verify(append(body, ' '), h); err == nil {
		t.Fatal("a changed body verified")
	}
	if key, _ := StandardKey(StandardSecret(secret)); string(key) != secret {
		t.Fatalf("StandardKey(StandardSecret(s)) = %q", key)
	}
}

func TestVerifyStandardRefusals(t *testing.T) {
	const secret, id = "01999f51-5c66-4449-b441-6b4a053fee6a", "msg_1"
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{}`)
	sig := SignStandard(secret, id, now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name        string
		id, ts, sig string
		at          time.Time
		want        error
	}{
		{"ok", id, ts, sig, now, nil},
		{"ok, second of two", id, ts, "v1,AAAA " + sig, now, nil},
		{"missing id", "", ts, sig, now, ErrStandardHeaders},
		{"bad timestamp", id, "soon", sig, now, ErrStandardHeaders},
		{"too old", id, ts, sig, now.Add(6 * time.Minute), ErrStandardTimestamp},
		{"too new", id, ts, sig, now.Add(-6 * time.Minute), ErrStandardTimestamp},
		{"other id", "msg_2", ts, sig, now, ErrStandardNoMatch},
		{"v2 only", id, ts, "v2," + sig[3:], now, ErrStandardNoMatch},
	}
	for _, c := range cases {
		if err := VerifyStandard(secret, body, c.id, c.ts, c.sig, c.at, DefaultTolerance); err != c.want {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}
