package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie names. The token cookie holds the API bearer token itself: the
// dashboard keeps no session store, so a restart or a second replica signs
// no one out.
const (
	tokenCookie = "hookgate_token"
	csrfCookie  = "hookgate_csrf"
	csrfField   = "csrf"
	csrfHeader  = "X-CSRF-Token"
)

// session is the signed-in user as the token says.
type session struct {
	ClientID  string
	UserID    int64
	CompanyID int64
	Scopes    []string
	Expires   time.Time
	CSRF      string
	api       *apiClient
}

// CanWrite tells templates whether to offer changes (the API decides anyway).
func (s *session) CanWrite() bool {
	for _, sc := range s.Scopes {
		if sc == "webhooks:write" {
			return true
		}
	}
	return false
}

// tokenClaims reads a JWT's claims without checking the signature: the API
// checks it on every call; the dashboard only needs who and until when.
func tokenClaims(token string) (session, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return session{}, false
	}
	var c struct {
		ClientID  string `json:"client_id"`
		UserID    int64  `json:"user_id"`
		CompanyID int64  `json:"company_id"`
		Scope     string `json:"scope"`
		Exp       int64  `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == 0 {
		return session{}, false
	}
	return session{ClientID: c.ClientID, UserID: c.UserID, CompanyID: c.CompanyID,
		Scopes: strings.Fields(c.Scope), Expires: time.Unix(c.Exp, 0)}, true
}

// cookie builds a dashboard cookie: HttpOnly and SameSite=Strict always,
// Secure when the gateway is reached over https.
func (d *Dashboard) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: d.base, MaxAge: maxAge,
		HttpOnly: true, Secure: d.opts.Secure, SameSite: http.SameSiteStrictMode}
}

// csrfSecret returns the browser's CSRF cookie, setting a new one when absent.
func (d *Dashboard) csrfSecret(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v := hex.EncodeToString(b)
	http.SetCookie(w, d.cookie(csrfCookie, v, 0))
	return v
}

// csrfToken is the form value for a CSRF secret in one session: an HMAC of
// the browser's CSRF cookie and the session's token cookie ("" for the
// sign-in form, before there is a session). So a value that leaks from a
// page cannot be turned into a cookie an attacker plants (signed
// double-submit, on top of SameSite=Strict), and a token minted for one
// session is refused in any other, even with the same CSRF cookie (one
// planted by a sibling subdomain, or left from another user's session).
func (d *Dashboard) csrfToken(secret, session string) string {
	m := hmac.New(sha256.New, d.csrf)
	// NUL separates the parts: neither cookie value can hold one.
	m.Write([]byte("hookgate-ui-csrf\x00" + secret + "\x00" + session))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF accepts a state-changing request only with the token of the
// browser's own CSRF cookie and the given session (the token cookie, "" for
// sign-in), from the form or the X-CSRF-Token header.
func (d *Dashboard) checkCSRF(r *http.Request, session string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	want := d.csrfToken(c.Value, session)
	return hmac.Equal([]byte(got), []byte(want))
}

// checkOrigin refuses a state-changing request that a browser sent from
// another site: Sec-Fetch-Site and Origin through the standard library's
// CrossOriginProtection (the request's own Host, or server.public_url when
// a proxy rewrites Host), and the Referer when a browser sends neither.
// A request with none of the three is not a cross-site browser request
// (browsers send Origin on every cross-site POST): it passes, and the CSRF
// token still has to match.
func (d *Dashboard) checkOrigin(r *http.Request) error {
	if err := d.cop.Check(r); err != nil {
		return err
	}
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" {
		return nil
	}
	ref := r.Referer()
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err == nil && u.Host != "" && (u.Host == r.Host || strings.EqualFold(u.Scheme+"://"+u.Host, d.origin)) {
		return nil
	}
	return errors.New("the Referer is another site")
}

type ctxKey struct{}

// sessionOf returns the session authed put in the request context.
func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

// authed admits requests with an unexpired token cookie and, for anything
// but GET, a valid CSRF token; others go to the sign-in page.
func (d *Dashboard) authed(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(tokenCookie)
		var s session
		ok := err == nil
		if ok {
			s, ok = tokenClaims(c.Value)
		}
		if !ok || !d.now().Before(s.Expires) {
			d.toSignIn(w, r, ok)
			return
		}
		if r.Method != http.MethodGet && !d.checkCSRF(r, c.Value) {
			d.renderError(w, r, http.StatusForbidden, "This form has expired or did not come from this dashboard (CSRF check failed). Reload the page and try again.")
			return
		}
		s.CSRF = d.csrfToken(d.csrfSecret(w, r), c.Value)
		s.api = d.apiAs(r, c.Value)
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &s)))
	})
}

// toSignIn clears the token and sends the browser to sign in, then back.
// Script calls (fetch) get a 401 instead of a redirect they cannot follow.
func (d *Dashboard) toSignIn(w http.ResponseWriter, r *http.Request, expired bool) {
	http.SetCookie(w, d.cookie(tokenCookie, "", -1))
	if r.Header.Get(csrfHeader) != "" || r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"signed out"}`))
		return
	}
	q := url.Values{}
	if r.Method == http.MethodGet {
		q.Set("next", r.URL.RequestURI())
	}
	if expired {
		q.Set("expired", "1")
	}
	target := d.base + "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// handleAPIError turns errSignedOut into a sign-in redirect; it reports
// whether it answered.
func (d *Dashboard) signedOut(w http.ResponseWriter, r *http.Request, err error) bool {
	if errors.Is(err, errSignedOut) {
		d.toSignIn(w, r, true)
		return true
	}
	return false
}

// safeNext keeps a post-sign-in redirect inside the dashboard.
func (d *Dashboard) safeNext(next string) string {
	if strings.HasPrefix(next, d.base+"/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return d.base + "/webhooks"
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Next": r.URL.Query().Get("next"), "Expired": r.URL.Query().Get("expired") != "",
		"CSRF": d.csrfToken(d.csrfSecret(w, r), "")}
	d.render(w, r, http.StatusOK, "login", "Sign in", nil, data)
}

// login exchanges client credentials for a token at the API's token endpoint.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	next := r.PostFormValue("next")
	data := map[string]any{"Next": next, "ClientID": r.PostFormValue("client_id")}
	if !d.checkCSRF(r, "") {
		data["CSRF"] = d.csrfToken(d.csrfSecret(w, r), "")
		data["Error"] = "The sign-in form expired (CSRF check failed). Try again."
		d.render(w, r, http.StatusForbidden, "login", "Sign in", nil, data)
		return
	}
	api := d.apiAs(r, "")
	t, err := api.signIn(r.Context(), strings.TrimSpace(r.PostFormValue("client_id")), r.PostFormValue("client_secret"))
	if err != nil {
		data["CSRF"] = d.csrfToken(d.csrfSecret(w, r), "")
		data["Error"] = err.Error()
		d.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, data)
		return
	}
	http.SetCookie(w, d.cookie(tokenCookie, t.AccessToken, t.ExpiresIn))
	http.Redirect(w, r, d.safeNext(next), http.StatusSeeOther)
}

// logout clears the token cookie. It needs the CSRF token of the session so
// another site cannot sign a user out, but works with an expired token;
// without a token cookie there is nothing to clear.
func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(tokenCookie)
	if err != nil || c.Value == "" {
		http.Redirect(w, r, d.base+"/login", http.StatusSeeOther)
		return
	}
	if !d.checkCSRF(r, c.Value) {
		d.renderError(w, r, http.StatusForbidden, "CSRF check failed: reload the page and sign out again.")
		return
	}
	http.SetCookie(w, d.cookie(tokenCookie, "", -1))
	http.Redirect(w, r, d.base+"/login", http.StatusSeeOther)
}
