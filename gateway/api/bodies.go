package api

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// How request bodies are read (docs/security.md, "Request bodies").
//
// The server streams bodies (fiber's StreamRequestBody): before a handler
// runs, fasthttp reads at most 8 KiB of one, whatever its Content-Length
// announces, and a body is read in full only by readBody, up to
// server.body_limit, as the bytes arrive. So a client that announces a
// large body and sends little costs what it sent, not what it announced.
//
// headerReceived looks at each request's headers before any of its body
// is read. A body that will be refused — over server.body_limit, under
// /api without a valid bearer token, or with every unauthenticated-body
// slot taken — is not read at all: the request goes on with no body and
// unreadBodyHeader saying why, bodyGate answers (or lets requireToken
// answer 401), and the connection closes after the answer, so the bytes
// left on it are never taken for a request.

// unreadBodyHeader carries headerReceived's reason to bodyGate. A client's
// own header of that name is deleted first.
const unreadBodyHeader = "X-Hookgate-Unread-Body"

// Reasons for leaving a body unread.
const (
	unreadTooLarge        = "too-large"
	unreadUnauthenticated = "unauthenticated"
	unreadBusy            = "busy"
)

// headerReceived is the fasthttp server's HeaderReceived hook.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(unreadBodyHeader)
	cl := h.ContentLength() // -1 chunked, -2 none
	if cl == 0 || cl == -2 {
		return fasthttp.RequestConfig{}
	}
	reason := ""
	switch {
	case int64(cl) > s.cfg.Server.BodyLimit:
		reason = unreadTooLarge
	case underAPI(requestPath(h)):
		if !s.validBearer(string(h.Peek(fiber.HeaderAuthorization))) {
			reason = unreadUnauthenticated
		}
	case s.unauthBodies.full():
		reason = unreadBusy
	}
	if reason != "" {
		// The announced length goes along: lingerAfterAnswer drains it.
		h.Set(unreadBodyHeader, reason+" "+strconv.Itoa(cl))
		h.SetContentLength(0) // fasthttp then reads none of it
		h.SetConnectionClose()
	}
	return fasthttp.RequestConfig{}
}

// requestPath is the path fiber routes on: the request URI's, undecoded.
func requestPath(h *fasthttp.RequestHeader) string {
	u := fasthttp.AcquireURI()
	defer fasthttp.ReleaseURI(u)
	if err := u.Parse(nil, h.RequestURI()); err != nil {
		return ""
	}
	return string(u.PathOriginal())
}

// underAPI reports whether fiber sends path through the /api group, whose
// first handler is requireToken: fiber matches a group's prefix without
// regard to case or to what follows it.
func underAPI(path string) bool {
	return len(path) >= 4 && strings.EqualFold(path[:4], "/api")
}

// validBearer is requireToken's check, on an Authorization header alone.
func (s *Server) validBearer(authz string) bool {
	tok, ok := bearerToken(authz)
	if !ok {
		return false
	}
	_, err := s.auth.Parse(tok)
	return err == nil
}

// bodyGate runs first for every request. It answers the bodies
// headerReceived refused, reads the bodies of requests outside /api (the
// token endpoint, the dashboard's forms: read before any bearer token vouches
// for them) within server.max_unauthenticated_bodies at once, leaves /api
// bodies to readBody after requireToken, and closes the connection after
// any answer that left a body on it unread.
func (s *Server) bodyGate(c *fiber.Ctx) error {
	h := &c.Request().Header
	_, unread, _ := strings.Cut(string(h.Peek(unreadBodyHeader)), " ")
	err := s.gateBody(c)
	switch {
	case unread != "":
		announced, _ := strconv.ParseInt(unread, 10, 64)
		s.lingerAfterAnswer(c, announced)
	case c.Context().RequestBodyStream() != nil && h.ContentLength() != 0:
		s.lingerAfterAnswer(c, int64(h.ContentLength()))
	}
	return err
}

// lingerFactor bounds what lingerAfterAnswer reads and throws away, in
// multiples of server.body_limit: enough for a client that sent somewhat
// more than the limit to read its 413.
const lingerFactor = 16

// lingerBuffer is what a lingering connection reads into: small, since
// thousands of them may wait at once.
const lingerBuffer = 2 << 10

// lingerAfterAnswer makes the answer to a request whose body was left
// unread reach a client that is still sending that body. Closing at once
// would have the kernel reset the connection under the client's write, and
// a client such as Go's net/http then reports the reset, not the 401 or 413
// that explains it. So fasthttp's own answer and close are replaced by a
// hijack: the answer is written, what the client goes on sending is read
// and thrown away — at most what it announced (announced < 0: chunked),
// capped at lingerFactor × server.body_limit, for at most
// server.read_timeout — and the connection is closed. It costs a goroutine
// (ended by its deadline) and a 2 KiB buffer per such connection, what a
// client that trickles its headers for read_timeout costs anyway.
func (s *Server) lingerAfterAnswer(c *fiber.Ctx, announced int64) {
	limit := lingerFactor * s.cfg.Server.BodyLimit
	if announced >= 0 {
		limit = min(limit, announced)
	}
	wait := s.cfg.Server.ReadTimeout
	fctx := c.Context()
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) {
		if wait > 0 {
			_ = conn.SetDeadline(time.Now().Add(wait))
		}
		fctx.Response.Header.SetConnectionClose()
		if _, err := fctx.Response.WriteTo(conn); err != nil {
			return
		}
		// Not io.Discard: its ReadFrom takes an 8 KiB buffer per reader.
		_, _ = io.CopyBuffer(struct{ io.Writer }{io.Discard}, io.LimitReader(conn, limit), make([]byte, lingerBuffer))
	})
}

func (s *Server) gateBody(c *fiber.Ctx) error {
	h := &c.Request().Header
	if reason, _, _ := strings.Cut(string(h.Peek(unreadBodyHeader)), " "); reason != "" {
		h.Del(unreadBodyHeader)
		switch reason {
		case unreadTooLarge:
			return fiber.ErrRequestEntityTooLarge // ErrorHandler words it
		case unreadBusy:
			return s.unauthBusy(c)
		}
		return c.Next() // unauthenticated: requireToken answers 401
	}
	if c.Context().RequestBodyStream() == nil || h.ContentLength() == 0 || underAPI(c.Path()) {
		// No body from the network (none, or an in-process call from the
		// dashboard), or one readBody reads once the token is checked.
		return c.Next()
	}
	if !s.unauthBodies.acquire() {
		return s.unauthBusy(c)
	}
	defer s.unauthBodies.release()
	return s.readBody(c)
}

func (s *Server) unauthBusy(c *fiber.Ctx) error {
	c.Set(fiber.HeaderRetryAfter, "1")
	return Errorf(fiber.StatusServiceUnavailable, fmt.Sprintf(
		"too many request bodies are being read before authentication: at most %d at once (server.max_unauthenticated_bodies); retry shortly",
		s.unauthBodies.max))
}

// bodySlots counts the request bodies being read, and handled, before a
// bearer token vouches for their sender.
type bodySlots struct {
	max int64
	n   atomic.Int64
}

func (s *bodySlots) full() bool { return s.n.Load() >= s.max }

func (s *bodySlots) acquire() bool {
	if s.n.Add(1) > s.max {
		s.n.Add(-1)
		return false
	}
	return true
}

func (s *bodySlots) release() { s.n.Add(-1) }

// bodyBuffers are reused for reading bodies: a body is copied into the
// request once read, so a buffer goes back at once.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the request's body from the connection, at most
// server.body_limit bytes as they arrive, and decodes a Content-Encoding
// within the same limit; then the chain goes on with the body in memory,
// where c.Body(), FormValue and the dashboard's adaptor find it.
func (s *Server) readBody(c *fiber.Ctx) error {
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		return c.Next()
	}
	req := &c.Request().Header
	limit := s.cfg.Server.BodyLimit
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bodyBuffers.Put(buf) }()
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(stream, limit+1))
	switch cl := req.ContentLength(); {
	case err != nil:
		return s.bodyReadError(err)
	case n > limit: // chunked: no length announced
		return fiber.ErrRequestEntityTooLarge
	case cl >= 0 && n != int64(cl):
		return Errorf(fiber.StatusBadRequest, fmt.Sprintf("the request body ended after %d of the %d bytes its Content-Length announced", n, cl))
	}
	body := buf.Bytes()
	if enc := strings.TrimSpace(string(req.Peek(fiber.HeaderContentEncoding))); enc != "" && !strings.EqualFold(enc, "identity") {
		if body, err = decodeBody(body, enc, limit); err != nil {
			return err
		}
		// fiber's c.Body() would decode it again, without a limit.
		req.Del(fiber.HeaderContentEncoding)
	}
	c.Request().SetBody(body) // copies, and ends the stream
	return c.Next()
}

func (s *Server) bodyReadError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Errorf(fiber.StatusRequestTimeout, "the request body did not arrive within "+s.cfg.Server.ReadTimeout.String()+" (server.read_timeout)")
	}
	return Errorf(fiber.StatusBadRequest, "the request body could not be read: "+err.Error())
}

// decodeBody undoes a Content-Encoding (a list is undone last first),
// refusing a result over limit bytes: a small compressed body may stand
// for a huge one.
func decodeBody(body []byte, encoding string, limit int64) ([]byte, error) {
	encs := strings.Split(encoding, ",")
	for i := len(encs) - 1; i >= 0; i-- {
		enc := strings.ToLower(strings.TrimSpace(encs[i]))
		var r io.Reader
		var err error
		switch enc {
		case "identity":
			continue
		case "gzip", "x-gzip":
			r, err = gzip.NewReader(bytes.NewReader(body))
		case "deflate":
			r, err = zlib.NewReader(bytes.NewReader(body))
		case "br":
			r = brotli.NewReader(bytes.NewReader(body))
		default:
			return nil, Errorf(fiber.StatusUnsupportedMediaType, "Content-Encoding "+quote(enc)+" is not supported: send the body as is, or as gzip, deflate or br")
		}
		if err == nil {
			var decoded bytes.Buffer
			_, err = decoded.ReadFrom(io.LimitReader(r, limit+1))
			if int64(decoded.Len()) > limit {
				return nil, Errorf(fiber.StatusRequestEntityTooLarge, fmt.Sprintf(
					"request body decoded from %s is larger than the limit of %d bytes (server.body_limit)", enc, limit))
			}
			body = decoded.Bytes()
		}
		if err != nil {
			return nil, Errorf(fiber.StatusBadRequest, "request body is not valid "+enc+": "+err.Error())
		}
	}
	return body, nil
}
