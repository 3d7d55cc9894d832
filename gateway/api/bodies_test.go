package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// openBody dials the gateway and sends a request's headers announcing
// length bytes of body, then the first part of it; the caller reads the
// answer (readAnswer) or closes the connection.
func openBody(t *testing.T, tg *testGateway, path, hdr string, length int, part []byte) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(tg.Base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s", path, hdr, length, part); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readAnswer reads one response from conn and reports whether the server
// then closed the connection.
func readAnswer(t *testing.T, conn net.Conn) (status int, body string, closed bool) {
	t.Helper()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, err = br.ReadByte()
	return resp.StatusCode, string(raw), err == io.EOF
}

// TestBodiesNotReadBeforeAuth: hundreds of connections announce ~1 MB
// bodies on POST /api/v1/events and send one byte, without a token or with
// a bad one; more do the same on the token endpoint. The heap grows by a
// small part of what they announce (fasthttp once sized a buffer from each
// Content-Length and read the body before the token was checked), the
// /api ones get 401 at once with the connection closed, and an honest
// publish meanwhile succeeds.
func TestBodiesNotReadBeforeAuth(t *testing.T) {
	const n, tokenConns, announced = 200, 50, 1048000
	cfg := gatewaytest.Config(t)
	// Only the old code waits for it: bodies never sent end in a 408.
	cfg.Server.ReadTimeout = 2 * time.Second
	tg := startGateway(t, cfg, false)
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(t, "workorder.created")

	type answer struct {
		status int
		body   string
		closed bool
	}
	answers := make([]answer, n)
	grown := gatewaytest.HeapPeak(func() {
		for range tokenConns { // held open: their answer is not awaited
			openBody(t, tg, "/authentication/api/oauth/token", "Content-Type: application/x-www-form-urlencoded\r\n", announced, []byte("g"))
		}
		conns := make([]net.Conn, n)
		for i := range conns {
			hdr := "Content-Type: application/json\r\n"
			if i%2 == 1 {
				hdr += "Authorization: Bearer not.a.token\r\n"
			}
			conns[i] = openBody(t, tg, "/api/v1/events", hdr, announced, []byte("{"))
		}
		if r := tg.Do("POST", "/api/v1/events", tok, env, nil); r.Status != 202 {
			t.Errorf("honest publish meanwhile: %d %s", r.Status, r.Raw)
		}
		var wg sync.WaitGroup
		for i, conn := range conns {
			wg.Go(func() {
				a := &answers[i]
				a.status, a.body, a.closed = readAnswer(t, conn)
			})
		}
		wg.Wait()
	})
	t.Logf("%d connections announcing %d KB and sending 1 byte: the heap rose %.1f MiB", n+tokenConns, announced/1000, float64(grown)/(1<<20))
	for i, a := range answers {
		want := "missing bearer token"
		if i%2 == 1 {
			want = "invalid token"
		}
		if a.status != 401 || !strings.Contains(a.body, want) || !a.closed {
			t.Fatalf("connection %d: %d %s (closed %v), want 401 %q and the connection closed", i, a.status, a.body, a.closed, want)
		}
	}
	if grown > 48<<20 {
		t.Errorf("the heap rose %d MiB, want under 48 MiB (%d MiB announced)", grown>>20, (n+tokenConns)*announced>>20)
	}
}

// TestUnauthenticatedBodyCap: bodies read before any token vouches for
// them (the token endpoint, the dashboard's forms) are capped at
// server.max_unauthenticated_bodies at once; one more gets 503 naming the
// setting, publishing with a token is not held back, and a slot frees when
// its body ends.
func TestUnauthenticatedBodyCap(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Server.MaxUnauthenticatedBodies = 3
	tg := startGateway(t, cfg, false)
	tok := tg.Token("acme", "acme-secret")
	// Past the 8 KiB fasthttp reads before the handler, so each holds a slot
	// while the rest of its body does not come.
	part := bytes.Repeat([]byte("a"), 9000)
	var held []net.Conn
	for range 3 {
		held = append(held, openBody(t, tg, "/authentication/api/oauth/token", "Content-Type: application/x-www-form-urlencoded\r\n", 100000, part))
	}
	waitSlots(t, tg, 3)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}
	for _, path := range []string{"/authentication/api/oauth/token", "/ui/login"} {
		resp, err := http.PostForm(tg.Base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.Contains(string(raw), "server.max_unauthenticated_bodies") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s with every slot taken: %d %s (Retry-After %q), want 503 naming server.max_unauthenticated_bodies",
				path, resp.StatusCode, raw, resp.Header.Get("Retry-After"))
		}
	}
	if r := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), nil); r.Status != 202 {
		t.Errorf("publish with a token while the slots are taken: %d %s", r.Status, r.Raw)
	}
	held[0].Close() // its body ends early: 400, and the slot is free
	waitSlots(t, tg, 2)
	tg.Token("acme", "acme-secret")
}

// waitSlots waits until n unauthenticated bodies are being read.
func waitSlots(t *testing.T, tg *testGateway, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tg.G.API().UnauthenticatedBodies() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d unauthenticated bodies being read, want %d", tg.G.API().UnauthenticatedBodies(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBodiesReadWhole: streamed bodies reach every handler whole — past
// the part read before the handler, chunked, gzip-encoded, as a form for
// the token endpoint and the dashboard — and limits hold: a chunked body
// over server.body_limit and a gzip body that decodes past it get 413
// without the decoded size being held.
func TestBodiesReadWhole(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Server.BodyLimit = 256 << 10
	tg := startGateway(t, cfg, false)
	tok := tg.Token("acme", "acme-secret")
	big := gatewaytest.PaddedEnvelope(t, "workorder.created", 200<<10)

	stored := func(what string, r gatewaytest.Response, want []byte) {
		t.Helper()
		if r.Status != 202 {
			t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
		}
		ev, err := tg.G.Store().GetEvent(context.Background(), r.Body["result"].(map[string]any)["eventId"].(string))
		if err != nil || !bytes.Equal(ev.Payload, want) {
			t.Fatalf("%s: stored %d bytes (%v), want the %d sent", what, len(ev.Payload), err, len(want))
		}
	}
	stored("200 KiB event", tg.Do("POST", "/api/v1/events", tok, big, nil), big)
	stored("chunked", send(tg, tok, struct{ io.Reader }{bytes.NewReader(big)}, nil), big)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	stored("gzip", send(tg, tok, bytes.NewReader(gz.Bytes()), map[string]string{"Content-Encoding": "gzip"}), big)

	over := bytes.Repeat([]byte(" "), 300<<10)
	if r := send(tg, tok, struct{ io.Reader }{bytes.NewReader(over)}, nil); r.Status != 413 || !strings.Contains(r.ErrMessage(), "server.body_limit") {
		t.Errorf("chunked body over the limit: %d %s", r.Status, r.Raw)
	}
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	var r gatewaytest.Response
	grown := gatewaytest.HeapPeak(func() { r = send(tg, tok, bytes.NewReader(gz.Bytes()), map[string]string{"Content-Encoding": "gzip"}) })
	t.Logf("%d KiB of gzip that decodes to 64 MiB: %d, the heap rose %.1f MiB", gz.Len()>>10, r.Status, float64(grown)/(1<<20))
	if r.Status != 413 || !strings.Contains(r.ErrMessage(), "server.body_limit") {
		t.Errorf("%d KiB of gzip that decodes to 64 MiB: %d %s", gz.Len()>>10, r.Status, r.Raw)
	}
	if grown > 16<<20 {
		t.Errorf("decoding a gzip bomb raised the heap %d MiB, want under 16 MiB", grown>>20)
	}

	// Forms past the first 8 KiB: the token endpoint and the dashboard.
	pad := strings.Repeat("p", 20<<10)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}, "pad": {pad}}
	resp, err := http.PostForm(tg.Base+"/authentication/api/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token request with a 20 KiB form: %d", resp.StatusCode)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Get(tg.Base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the sign-in page:\n%s", page)
	}
	login := url.Values{"csrf": {string(m[1])}, "client_id": {"acme"}, "client_secret": {"acme-secret"}, "next": {"/ui/webhooks"}, "pad": {pad}}
	req, _ := http.NewRequest("POST", tg.Base+"/ui/login", strings.NewReader(login.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", tg.Base)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/ui/webhooks") {
		t.Errorf("dashboard sign-in with a 20 KiB form: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), raw)
	}
}

// send publishes the body r gives: an io.Reader of unknown length goes
// chunked.
func send(tg *testGateway, token string, r io.Reader, hdr map[string]string) gatewaytest.Response {
	tg.T.Helper()
	return tg.DoReader("POST", "/api/v1/events", token, r, hdr)
}

// TestRefusedBodyAnswerReaches: a request refused from its headers alone
// (over server.body_limit, or under /api without a valid token) has its
// answer read by an ordinary client that is still sending the body: the
// server drains what the client sends, up to a bound, before it closes,
// so closing does not reset the connection under the client's write and
// lose the answer.
func TestRefusedBodyAnswerReaches(t *testing.T) {
	cfg := gatewaytest.Config(t)
	tg := startGateway(t, cfg, false)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	cases := []struct {
		name   string
		size   int
		token  string
		status int
	}{
		{"bad token", int(cfg.Server.BodyLimit) - 1, "not.a.token", 401},
		{"over the limit", 4 * int(cfg.Server.BodyLimit), tg.Token("acme", "acme-secret"), 413},
	}
	for _, c := range cases {
		body := bytes.Repeat([]byte("x"), c.size)
		for i := range 30 {
			req, _ := http.NewRequest("POST", tg.Base+"/api/v1/events", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s, try %d: %v, want the %d answer", c.name, i, err, c.status)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("%s, try %d: %d, want %d", c.name, i, resp.StatusCode, c.status)
			}
		}
	}
}
