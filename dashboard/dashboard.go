// Package dashboard is hookgate's web dashboard, served by the gateway at
// /ui: server-rendered html/template pages with a little plain JavaScript,
// all embedded in the binary.
//
// The dashboard is a client of the gateway's own REST API: every page calls
// the API in-process with the signed-in user's bearer token, so it sees and
// changes exactly what that token may through the API, with the same
// isolation, scopes, validation and rate limits. It keeps no state of its
// own beyond two cookies (the token and a CSRF secret).
package dashboard

import (
	"crypto/rand"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

//go:embed web
var webFS embed.FS

// seedEnvelope is the spec's example event (a copy of
// transforms/testdata/seed-envelope.json; a test keeps them equal), the
// template editor's default sample.
//
//go:embed web/sample/seed-envelope.json
var seedEnvelope []byte

// Options configure a Dashboard.
type Options struct {
	// API is the gateway's HTTP handler (the REST API and the token
	// endpoint). The dashboard calls it in-process, never over the network.
	API http.Handler
	// BasePath is where the dashboard is mounted, default "/ui".
	BasePath string
	// Secure marks the cookies Secure; set it when the gateway's public URL
	// is https (a plain-http install would otherwise never get them back).
	Secure bool
	// PublicURL is the gateway's server.public_url: besides the request's
	// own Host, the one origin a state-changing request may come from.
	PublicURL string
	// SampleEnvelope is the event the template editor starts with; nil is
	// the spec's seed payload.
	SampleEnvelope []byte
	// CSRFKey signs CSRF tokens; nil draws a random one, which makes open
	// forms stale across restarts (they are re-rendered on refusal).
	CSRFKey []byte
	// TraceURL is telemetry.trace_url: a trace viewer's URL with
	// {trace_id} where the 32-hex W3C trace id goes. Set, a delivery log's
	// trace id links to it.
	TraceURL string
	// Now is the clock used to judge token expiry; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Dashboard is the /ui handler.
type Dashboard struct {
	opts  Options
	base  string
	mux   *http.ServeMux
	pages *pages
	csrf  []byte
	cop   *http.CrossOriginProtection
	// origin is scheme://host of Options.PublicURL, "" without one.
	origin string
	log    *slog.Logger
	now    func() time.Time

	catMu     sync.Mutex
	catEvents []event // the events catalog, fetched once
}

// New builds the dashboard; it panics only if the embedded templates are
// broken, which the package's tests catch.
func New(opts Options) *Dashboard {
	d := &Dashboard{opts: opts, base: strings.TrimSuffix(opts.BasePath, "/"), csrf: opts.CSRFKey, log: opts.Logger, now: opts.Now}
	if d.base == "" {
		d.base = "/ui"
	}
	if len(d.csrf) == 0 {
		d.csrf = make([]byte, 32)
		_, _ = rand.Read(d.csrf)
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.now == nil {
		d.now = time.Now
	}
	if len(d.opts.SampleEnvelope) == 0 {
		d.opts.SampleEnvelope = seedEnvelope
	}
	d.cop = http.NewCrossOriginProtection()
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		d.origin = u.Scheme + "://" + u.Host
		// Only fails for a URL with a path, which the origin has not.
		_ = d.cop.AddTrustedOrigin(d.origin)
	}
	d.pages = mustParsePages(d.base)
	d.mux = http.NewServeMux()
	d.routes()
	return d
}

// ServeHTTP answers every request under BasePath.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Pages carry a user's data: never cache them, never frame them.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	// Every state-changing request, sign-in and sign-out included, must
	// come from this dashboard's own pages, before any cookie is looked at.
	if err := d.checkOrigin(r); err != nil {
		d.log.Info("dashboard: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "host", r.Host, "err", err)
		d.renderError(w, r, http.StatusForbidden, "This request came from another site, not from this dashboard ("+
			d.ownOrigins(r)+"), and was refused. Open the dashboard at its own address and try again.")
		return
	}
	d.mux.ServeHTTP(w, r)
}

// ownOrigins names the origins a state-changing request may come from,
// for the refusal message.
func (d *Dashboard) ownOrigins(r *http.Request) string {
	s := "its address " + r.Host
	if d.origin != "" {
		s += " or server.public_url " + d.origin
	}
	return s
}

func (d *Dashboard) routes() {
	b := d.base
	static, _ := fs.Sub(webFS, "web/static")
	d.mux.Handle("GET "+b+"/static/", http.StripPrefix(b+"/static/", staticHandler(static)))
	d.mux.HandleFunc("GET "+b+"/login", d.loginPage)
	d.mux.HandleFunc("POST "+b+"/login", d.login)
	d.mux.HandleFunc("POST "+b+"/logout", d.logout)
	d.mux.HandleFunc("GET "+b+"/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, b+"/webhooks", http.StatusSeeOther) })
	d.mux.HandleFunc("GET "+b, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, b+"/webhooks", http.StatusSeeOther) })

	d.mux.Handle("GET "+b+"/webhooks", d.authed(d.webhooksPage))
	d.mux.Handle("POST "+b+"/webhooks", d.authed(d.createWebhook))
	d.mux.Handle("GET "+b+"/webhooks/{id}", d.authed(d.webhookPage))
	d.mux.Handle("GET "+b+"/webhooks/{id}/edit", d.authed(d.editPage))
	d.mux.Handle("POST "+b+"/webhooks/{id}/edit", d.authed(d.updateWebhook))
	d.mux.Handle("POST "+b+"/webhooks/{id}/status", d.authed(d.setStatus))
	d.mux.Handle("POST "+b+"/webhooks/{id}/secret", d.authed(d.regenerateSecret))
	d.mux.Handle("POST "+b+"/webhooks/{id}/secret/show", d.authed(d.showSecret))
	d.mux.Handle("POST "+b+"/webhooks/{id}/recover", d.authed(d.recoverWebhook))
	d.mux.Handle("POST "+b+"/webhooks/{id}/lanes/{wo}/release", d.authed(d.releaseLane))
	d.mux.Handle("POST "+b+"/webhooks/{id}/test", d.authed(d.sendTest))
	d.mux.Handle("GET "+b+"/webhooks/{id}/templates", d.authed(d.templatesPage))
	d.mux.Handle("POST "+b+"/webhooks/{id}/templates", d.authed(d.saveTemplates))
	d.mux.Handle("GET "+b+"/webhooks/{id}/history", d.authed(d.historyPage))
	d.mux.Handle("POST "+b+"/preview", d.authed(d.preview))
	d.mux.Handle("GET "+b+"/logs", d.authed(d.logsPage))
	d.mux.Handle("GET "+b+"/logs.csv", d.authed(d.logsCSV))
	d.mux.Handle("GET "+b+"/logs/{id}", d.authed(d.logPage))
	d.mux.Handle("POST "+b+"/logs/{id}/retry", d.authed(d.retryLog))
	d.mux.Handle("GET "+b+"/health", d.authed(d.healthPage))
}

// staticHandler serves the embedded CSS and JS; they change only with the
// binary, so a short cache is safe.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServer(http.FS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
