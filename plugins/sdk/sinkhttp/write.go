package sinkhttp

import (
	"bufio"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// outgoing is a request as the transport sends it: what
// http.NewRequestWithContext would have made of a Request, without the
// http.Request, its URL copy and body readers (a sink sends thousands a
// second, and each of those was an allocation or several).
type outgoing struct {
	method string
	*target
	header http.Header
	// userAgent is the User-Agent line's value, "" for none.
	userAgent string
	body      []byte
}

// target is what the transport needs from a request's URL, worked out
// once per URL (Client.targets): deliveries of a webhook share one.
// Read-only once made.
type target struct {
	parsed url.URL  // url.Parse's result
	url    *url.URL // as http.NewRequest keeps it (no empty port)
	err    error    // url.Parse's error; nothing else is set then
	// host is the Host header's value, cleaned as Request.Write cleans it
	// (punycode, no zone; "" when not a valid header value).
	host string
	uri  string // the request target: URL.RequestURI()
	// key and addr are connAddr's, or addrErr why there are none.
	key, addr string
	addrErr   error
	// wireErr is why Request.Write would refuse to send to this URL.
	wireErr error
}

// maxTargets bounds Client.targets: webhooks of one sink rarely have more
// distinct URLs, and past it the memo starts over.
const maxTargets = 1024

func newTarget(rawURL string) *target {
	u, err := url.Parse(rawURL)
	if err != nil {
		return &target{err: err}
	}
	t := &target{parsed: *u, url: u}
	u.Host = removeEmptyPort(u.Host)
	t.uri = u.RequestURI()
	// What Request.Write refuses comes out of the exchange, as it did
	// when the transport called Request.Write.
	t.host, t.wireErr = httpguts.PunycodeHostPort(u.Host)
	if !httpguts.ValidHostHeader(t.host) {
		t.host = "" // what Request.Write sends for a Host it cannot send as is
	}
	t.host = removeZone(t.host)
	if t.wireErr == nil && strings.ContainsFunc(t.uri, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		t.wireErr = errors.New("net/http: can't write control character in Request.URL")
	}
	t.key, t.addr, t.addrErr = connAddr(u)
	return t
}

// defaultUserAgent is what net/http sends when a request has no
// User-Agent header at all.
const defaultUserAgent = "Go-http-client/1.1"

// newOutgoing checks and prepares a request to t as
// http.NewRequestWithContext does, with the same errors (Request.Write's
// are t.wireErr). ua is the Client's User-Agent, sent when h has none.
func newOutgoing(method string, t *target, h http.Header, body []byte, ua string) (*outgoing, error) {
	if method == "" {
		method = http.MethodGet
	}
	if !httpguts.ValidHeaderFieldName(method) { // a token, as net/http's validMethod
		return nil, errors.New("net/http: invalid method " + strconv.Quote(method))
	}
	if t.err != nil {
		return nil, t.err
	}
	if err := validHeader(h); err != nil {
		return nil, err
	}
	o := &outgoing{method: method, target: t, header: h, body: body}
	o.userAgent = defaultUserAgent
	if _, ok := h["User-Agent"]; ok {
		o.userAgent = h.Get("User-Agent") // present but empty: none sent
	}
	if ua != "" && h.Get("User-Agent") == "" {
		o.userAgent = ua
	}
	o.userAgent = cleanValue(o.userAgent)
	if u := t.url.User; u != nil && h.Get("Authorization") == "" {
		// What http.Client does with a URL's userinfo.
		password, _ := u.Password()
		r := http.Request{Header: http.Header{}}
		r.SetBasicAuth(u.Username(), password)
		o.setHeader("Authorization", r.Header.Get("Authorization"))
	}
	return o, nil
}

// setHeader sets k on the request's header, on a copy: the caller's header
// is left as it was.
func (o *outgoing) setHeader(k, v string) {
	h := o.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(k, v)
	o.header = h
}

// sendsContentLength is net/http's rule for a request with a body of
// known length: always when there is a body, and for an empty one only
// for the methods that usually carry one.
func (o *outgoing) sendsContentLength() bool {
	return len(o.body) > 0 || o.method == http.MethodPost || o.method == http.MethodPut || o.method == http.MethodPatch
}

// excluded reports the headers Request.Write takes from elsewhere than
// the Header map (the URL, the body) and so never writes from it.
func excluded(name string) bool {
	switch name {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// field is one header name and its values, as write sorts them.
type field struct {
	name   string
	values []string
}

// write puts the request on w byte for byte as http.Request.Write would:
// request line, Host, User-Agent, Content-Length, the other headers sorted
// by name (each value trimmed of spaces and tabs), a blank line, the body.
// fields is scratch space for the sorted headers; it is returned for reuse.
func (o *outgoing) write(w *bufio.Writer, fields []field) ([]field, error) {
	w.WriteString(o.method)
	w.WriteByte(' ')
	w.WriteString(o.uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(o.host)
	w.WriteString("\r\n")
	if o.userAgent != "" {
		w.WriteString("User-Agent: ")
		w.WriteString(o.userAgent)
		w.WriteString("\r\n")
	}
	if o.sendsContentLength() {
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(o.body)), 10))
		w.WriteString("\r\n")
	}
	fields = fields[:0]
	for k, vs := range o.header {
		if !excluded(k) {
			fields = append(fields, field{k, vs})
		}
	}
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
	for _, f := range fields {
		for _, v := range f.values {
			w.WriteString(f.name)
			w.WriteString(": ")
			w.WriteString(cleanValue(v))
			w.WriteString("\r\n")
		}
	}
	w.WriteString("\r\n")
	_, err := w.Write(o.body)
	clear(fields)
	return fields, err
}

// cleanValue is what Request.Write does to a header value: CR and LF
// become spaces (validHeader has refused them in headers; a Client's
// UserAgent is not checked) and leading and trailing blanks go.
func cleanValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = newlineToSpace.Replace(v)
	}
	return textproto.TrimString(v)
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// removeEmptyPort strips a trailing ":" with no port after it, as
// http.NewRequest does with the URL's host.
func removeEmptyPort(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// removeZone drops an IPv6 zone from a Host value (RFC 6874), as
// Request.Write does.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}
