package sinkhttp

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// plainHead reads an answer's head from what br has already buffered, when
// the head is whole and plain: HTTP/1.1, a 2xx-5xx status other than 204
// and 304, one Content-Length, CRLF line ends, no folded lines, and none
// of the headers that change how net/http frames or rewrites an answer
// (Transfer-Encoding, Connection, Trailer, Pragma). That is nearly every
// webhook receiver's answer, and for it the result is what
// http.ReadResponse would return, with a third of its allocations: one
// string for the whole head, one map, one slice for all values. For
// anything else ok is false, nothing is consumed, and the caller uses
// http.ReadResponse. body is where the answer's body reader goes (the
// conn's own, reused; it reads from br).
func plainHead(br *bufio.Reader, method string, body *fixedBody) (resp *http.Response, ok bool) {
	if method == http.MethodHead {
		return nil, false
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, false
	}
	// The status line: "HTTP/1.1 ddd" and an optional " reason".
	line := buf[:end]
	if i := bytes.Index(line, []byte("\r\n")); i >= 0 {
		line = line[:i]
	}
	if len(line) < 12 || string(line[:9]) != "HTTP/1.1 " || (len(line) > 12 && line[12] != ' ') ||
		line[9] < '2' || line[9] > '5' || !isDigit(line[10]) || !isDigit(line[11]) ||
		bytes.ContainsAny(line, "\r\n") {
		return nil, false
	}
	code := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if code == http.StatusNoContent || code == http.StatusNotModified {
		return nil, false
	}
	head := string(buf[:end]) // every string below shares this one
	lines := strings.Count(head, "\r\n")
	resp = &http.Response{Status: head[9:len(line)], StatusCode: code, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, lines), ContentLength: -1}
	values := make([]string, lines)
	rest := strings.TrimPrefix(head[len(line):], "\r\n")
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			return nil, false
		}
		k, v, found := strings.Cut(line, ":")
		if !found || line[0] == ' ' || line[0] == '\t' || !httpguts.ValidHeaderFieldName(k) || !plainValue(v) {
			return nil, false
		}
		key := textproto.CanonicalMIMEHeaderKey(k)
		switch key {
		case "Transfer-Encoding", "Connection", "Trailer", "Pragma":
			return nil, false
		case "Content-Length":
			n, ok := parseLength(strings.Trim(v, " \t"))
			if !ok || resp.ContentLength >= 0 {
				return nil, false
			}
			resp.ContentLength = n
		}
		if vv := resp.Header[key]; vv == nil {
			values[0] = strings.Trim(v, " \t")
			resp.Header[key], values = values[:1:1], values[1:]
		} else {
			resp.Header[key] = append(vv, strings.Trim(v, " \t"))
		}
	}
	if resp.ContentLength < 0 {
		return nil, false // read to the connection's end: net/http's rules
	}
	_, _ = br.Discard(end + 4)
	resp.Body = http.NoBody
	if resp.ContentLength > 0 {
		*body = fixedBody{r: br, n: resp.ContentLength}
		resp.Body = body
	}
	return resp, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// plainValue reports whether a header value holds only what textproto
// accepts in one (no control bytes but tab), CR and LF excluded.
func plainValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length: digits only, no overflow.
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// fixedBody reads a body of n bytes from r, and reports an answer that
// ends early as io.ErrUnexpectedEOF, as net/http's body does.
type fixedBody struct {
	r io.Reader
	n int64
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err == io.EOF && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && b.n == 0 {
		err = io.EOF
	}
	return n, err
}

// Close does nothing: the transport decides what becomes of the
// connection once the body is read.
func (b *fixedBody) Close() error { return nil }
