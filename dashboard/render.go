package dashboard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// pages holds one template set per page, each with the shared layout.
type pages struct{ sets map[string]*template.Template }

// page is what every template gets.
type page struct {
	Title   string
	Base    string
	Nav     string // the sidebar entry to highlight
	Session *session
	Flash   string
	Data    any
}

func mustParsePages(base string) *pages {
	funcs := template.FuncMap{
		"base":   func() string { return base },
		"when":   fmtTime,
		"badge":  badgeClass,
		"pretty": prettyJSON,
		"join":   strings.Join,
		"has":    func(list []string, s string) bool { return slices.Contains(list, s) },
		"add":    func(a, b int) int { return a + b },
		"pct":    func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"ms":     func(f float64) string { return fmt.Sprintf("%.0f ms", f) },
		"q":      withQuery,
		"list3":  func() []string { return []string{"active", "inactive", "archived"} },
		"flip": func(dir string) string {
			if dir == "ASC" {
				return "DESC"
			}
			return "ASC"
		},
		"attempt":    attemptOf,
		"short":      func(s string) string { return shortID(s) },
		"dict":       dict,
		"pathEscape": url.PathEscape,
	}
	layout := template.Must(template.New("layout").Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/parts/*.html"))
	names, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		p.sets[name] = template.Must(template.Must(layout.Clone()).ParseFS(webFS, n))
	}
	return p
}

// render writes a page; a template error becomes a plain 500 rather than a
// half-written page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name, title string, s *session, data any) {
	t, ok := d.pages.sets[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	p := page{Title: title, Base: d.base, Session: s, Data: data, Flash: d.takeFlash(w, r)}
	p.Nav = navOf(name)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		d.log.Error("dashboard: rendering", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func navOf(name string) string {
	switch {
	case strings.HasPrefix(name, "log"):
		return "logs"
	case name == "health":
		return "health"
	}
	return "webhooks"
}

// renderError shows a message in the layout (or plain, before sign-in).
func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d.render(w, r, status, "error", "Error", sessionOf(r), map[string]any{"Message": msg, "Status": status})
}

// fail answers an API error: a sign-in redirect for an expired token, the
// API's own message otherwise.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	if d.signedOut(w, r, err) {
		return
	}
	if ae, ok := err.(*APIError); ok {
		d.renderError(w, r, ae.Status, ae.Error())
		return
	}
	d.log.Error("dashboard: API call", "path", r.URL.Path, "err", err)
	d.renderError(w, r, http.StatusBadGateway, "The gateway could not answer: "+err.Error())
}

// flash keeps a one-line message for the next page (post/redirect/get).
func (d *Dashboard) flash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, d.cookie("hookgate_flash", base64.RawURLEncoding.EncodeToString([]byte(msg)), 60))
}

func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie("hookgate_flash")
	if err != nil {
		return ""
	}
	http.SetCookie(w, d.cookie("hookgate_flash", "", -1))
	b, _ := base64.RawURLEncoding.DecodeString(c.Value)
	return string(b)
}

// redirect finishes a POST with a message for the next page.
func (d *Dashboard) redirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		d.flash(w, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// fmtTime shows API times (RFC 3339) as UTC, to the second.
func fmtTime(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// badgeClass colours an HTTP status: green 2xx, amber 3xx/429, red others,
// grey for no response.
func badgeClass(v any) string {
	var n int
	switch x := v.(type) {
	case float64:
		n = int(x)
	case int:
		n = x
	case string:
		switch x {
		case "active", "success":
			return "ok"
		case "inactive", "retry":
			return "warn"
		case "archived":
			return "muted"
		}
		return "bad"
	}
	switch {
	case n == 0:
		return "muted"
	case n < 300:
		return "ok"
	case n < 400 || n == 429:
		return "warn"
	}
	return "bad"
}

// prettyJSON indents any value or a JSON string for display.
func prettyJSON(v any) string {
	if p, ok := v.(*string); ok {
		if p == nil {
			return ""
		}
		v = *p
	}
	if s, ok := v.(string); ok {
		var x any
		if json.Unmarshal([]byte(s), &x) != nil {
			return s
		}
		v = x
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// withQuery returns the current query with some values replaced, for
// paging and sorting links that keep the filters.
func withQuery(q url.Values, kv ...string) template.URL {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return template.URL("?" + out.Encode())
}

// attemptOf is the attempt number of a delivery id "<uuid>:<n>".
func attemptOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
