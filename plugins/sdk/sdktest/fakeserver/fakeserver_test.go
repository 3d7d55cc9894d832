package fakeserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type fake struct {
	Server[string, int]
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		f.IssueToken("tok", time.Minute)
		return
	}
	if _, ok := f.Receive(r, func(b []byte) string { return r.Method + " " + string(b) }); !ok {
		return
	}
	if !f.Authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if status, ok := f.NextFault(); ok {
		w.WriteHeader(status)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
}

func TestServer(t *testing.T) {
	f := &fake{}
	f.Start(f)
	defer f.Close()
	call := func(auth string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", f.URL+"/x", strings.NewReader("b"))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call("Bearer tok"); got != 401 {
		t.Fatalf("before a token: %d", got)
	}
	if _, err := http.Get(f.URL + "/token"); err != nil {
		t.Fatal(err)
	}
	f.Fail(503, 400)
	for _, want := range []int{503, 400, 200} {
		if got := call("Bearer tok"); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	f.Advance(time.Minute)
	if got := call("Bearer tok"); got != 401 || f.TokensIssued() != 1 {
		t.Fatalf("after expiry: %d, %d tokens", got, f.TokensIssued())
	}
	if reqs := f.Requests(); len(reqs) != 5 || reqs[0] != "POST b" {
		t.Fatalf("requests %q", reqs)
	}

	release := f.Stall()
	done := make(chan int)
	go func() { done <- call("") }()
	select {
	case <-done:
		t.Fatal("a stalled request was answered")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	release() // idempotent
	if got := <-done; got != 401 {
		t.Fatalf("after release: %d", got)
	}
}
