package sinkhttp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
)

var answers = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sat, 05 Dec 2026 12:00:00 GMT\r\nContent-Length: 11\r\n\r\n{\"ok\":true}next",
	"HTTP/1.1 201 Created\r\nx-request-id:  r-1 \t\r\nX-Multi: a\r\nx-multi: b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 503\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbu", // body cut short
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",                  // no body at all
	"HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Obs: caf\xe9\r\nContent-Length: 1\r\n\r\nxy",
	// Each of these is left to http.ReadResponse.
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\n\r\nuntil the end",
	"HTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX Bad: a\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
	"HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
}

// TestPlainHeadMatchesReadResponse: where plainHead reads an answer, it
// reads what http.ReadResponse reads (status, headers, length, body and
// its error, and where the next answer starts); the plain answers take
// the short path, and every odd one is left to http.ReadResponse.
func TestPlainHeadMatchesReadResponse(t *testing.T) {
	for i, a := range answers {
		took := checkPlainHead(t, []byte(a))
		if plain := i < 6; took != plain {
			t.Errorf("answer %d: short path %v, want %v: %q", i, took, plain, a)
		}
	}
}

func FuzzPlainHead(f *testing.F) {
	for _, a := range answers {
		f.Add([]byte(a))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkPlainHead(t, b) })
}

// checkPlainHead compares plainHead with http.ReadResponse on b and
// reports whether plainHead took it.
func checkPlainHead(t *testing.T, b []byte) bool {
	t.Helper()
	br := bufio.NewReaderSize(bytes.NewReader(b), 4096)
	_, _ = br.Peek(1)
	var fb fixedBody
	got, ok := plainHead(br, "POST", &fb)
	if !ok {
		if br.Buffered() != min(len(b), 4096) {
			t.Fatalf("%q: refused but consumed", b)
		}
		return false
	}
	want, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), &http.Request{Method: "POST"})
	if err != nil {
		t.Fatalf("%q: short path read an answer http.ReadResponse refuses: %v", b, err)
	}
	if got.StatusCode != want.StatusCode || got.Status != want.Status || got.ContentLength != want.ContentLength ||
		got.Close != want.Close || !reflect.DeepEqual(got.Header, want.Header) {
		t.Fatalf("%q:\nshort path %d %q len %d close %v %v\nReadResponse %d %q len %d close %v %v", b,
			got.StatusCode, got.Status, got.ContentLength, got.Close, got.Header,
			want.StatusCode, want.Status, want.ContentLength, want.Close, want.Header)
	}
	gotBody, gotErr := io.ReadAll(got.Body)
	wantBody, wantErr := io.ReadAll(want.Body)
	if !bytes.Equal(gotBody, wantBody) || !errors.Is(gotErr, wantErr) && gotErr != wantErr {
		t.Fatalf("%q: body %q, %v; ReadResponse's %q, %v", b, gotBody, gotErr, wantBody, wantErr)
	}
	gotRest, _ := io.ReadAll(br)
	if wantErr == nil && !bytes.HasSuffix(b, gotRest) || (wantErr == nil && len(gotRest) != len(b)-bytes.Index(b, []byte("\r\n\r\n"))-4-len(gotBody)) {
		t.Fatalf("%q: %q left for the next answer", b, gotRest)
	}
	return true
}
