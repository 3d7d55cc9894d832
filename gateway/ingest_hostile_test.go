package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPublishHostileBodies: each hostile body gets the outcome written in
// docs/hostile-input.md, and nothing is stored for it.
func TestPublishHostileBodies(t *testing.T) {
	cfg := gatewaytest.Config(t)
	tg := startGateway(t, cfg, false)
	tok := tg.Token("acme", "acme-secret")
	good := gatewaytest.Seed(t, "workorder.created")
	nonUTF8 := bytes.Replace(good, []byte(`"title":"`), []byte("\"title\":\"\xff\xfe"), 1)
	if bytes.Equal(nonUTF8, good) {
		t.Fatal("seed has no workorder title to corrupt")
	}
	dupTop := append([]byte(`{"timestamp":"2026-01-20T08:55:58-06:00",`), good[1:]...)
	dupNested := bytes.Replace(good, []byte(`"params":{`), []byte(`"params":{"work_order_company_id":200,`), 1)
	deep := bytes.Replace(good, []byte(`"workorder":{`), []byte(`"workorder":{"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`,`), 1)
	var batch bytes.Buffer
	batch.WriteByte('[')
	for i := range 10000 {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.Write(good)
	}
	batch.WriteByte(']')

	cases := []struct {
		name   string
		body   []byte
		status int
		msg    string
	}{
		{"non-UTF-8", nonUTF8, 400, "not valid UTF-8"},
		{"duplicate top-level key", dupTop, 400, `duplicate key "timestamp" in the top-level object`},
		{"duplicate nested key", dupNested, 400, `duplicate key "work_order_company_id" in "/event/params"`},
		{"nested 100 deep", deep, 400, "at most 64 are accepted"},
		{"array of one event", append(append([]byte{'['}, good...), ']'), 400, "publish one event per request"},
		{"stray closing brace after the object", append(bytes.Clone(good), '}'), 400, "exactly one JSON object: unexpected bytes after it"},
		{"second object", append(bytes.Clone(good), []byte(" {}")...), 400, "exactly one JSON object"},
	}
	// fasthttp answers 413 from the Content-Length and closes while a
	// client may still be writing, so this one goes over a raw connection.
	if status, raw := rawPublish(t, tg, tok, "", batch.Bytes()); status != 413 || !strings.Contains(raw, "server.body_limit") {
		t.Errorf("10,000 events in one request (%d MB): %d %s, want 413", batch.Len()>>20, status, raw)
	}
	for _, c := range cases {
		r := tg.Do("POST", "/api/v1/events", tok, c.body, nil)
		if r.Status != c.status || !strings.Contains(r.ErrMessage(), c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, r.Status, r.ErrMessage(), c.status, c.msg)
		}
	}
	// Depth 64 is still accepted: the bound is not tighter than documented.
	ok := bytes.Replace(good, []byte(`"workorder":{`), []byte(`"workorder":{"x":`+strings.Repeat("[", 62)+strings.Repeat("]", 62)+`,`), 1)
	if r := tg.Do("POST", "/api/v1/events", tok, ok, nil); r.Status != 202 {
		t.Errorf("depth 64: %d %s", r.Status, r.Raw)
	}
}

// TestIdempotencyKeyControlBytes: a key with a control byte is refused with
// 400 naming the byte; CR or LF cannot even reach the handler: the HTTP
// parser answers 400 first. Sent over a raw connection because Go's client
// refuses to send such headers.
func TestIdempotencyKeyControlBytes(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), false)
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.Seed(t, "workorder.created")
	for _, key := range []string{"abc\x01def", "abc\tdef", "abc\rdef", "abc\ndef", "abc\x00def"} {
		status, raw := rawPublish(t, tg, tok, key, body)
		if status != 400 {
			t.Errorf("key %q: %d %s, want 400", key, status, raw)
		}
		if strings.ContainsAny(key, "\x01\t") && !strings.Contains(raw, "visible ASCII") {
			t.Errorf("key %q: message %s does not name the problem", key, raw)
		}
	}
	if r := tg.Do("POST", "/api/v1/events", tok, body, map[string]string{"Idempotency-Key": "order 42 / try 1"}); r.Status != 202 {
		t.Errorf("a key with spaces and punctuation: %d %s", r.Status, r.Raw)
	}
}

// rawPublish writes one HTTP/1.1 request by hand and returns the status and
// the body.
func rawPublish(t *testing.T, tg *testGateway, tok, key string, body []byte) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(tg.Base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr string
	if key != "" {
		hdr = "Idempotency-Key: " + key + "\r\n"
	}
	// Written by its own goroutine: the server may answer (413) and close
	// before reading it all. The deadline above ends it.
	written := make(chan struct{})
	go func() {
		defer close(written)
		fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", tok, hdr, len(body), body)
	}()
	defer func() { conn.Close(); <-written }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("key %q: reading the answer: %v", key, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
