package transforms

import (
	"net/url"
	"strings"
)

// A URL template's placeholders may fill its path, query or fragment, never
// the part that says where a delivery goes: event data (which a work
// order's fields put in the producer's hands) must not send the signed body
// and the webhook's custom headers, often credentials, to another host.
// So the text before the first "{{" must hold the scheme, "://", the whole
// authority ([userinfo@]host[:port]) and the character that ends it ("/",
// "?" or "#"), and every rendered URL is checked to have the template's
// scheme, userinfo, host and port (urlTemplate.render).

// originMessage is the refusal of a placeholder before the end of the
// authority, worded for API and HCL messages alike.
const originMessage = `a {{ placeholder }} may only appear in the path, query or fragment: ` +
	`write the scheme, host and port in full, then "/", "?" or "#", before the first "{{"`

// CheckURLOrigin reports, as an *Error positioned at the first "{{", a URL
// template whose placeholders could change its scheme, userinfo, host or
// port. A URL without placeholders passes.
func CheckURLOrigin(raw string) error {
	if _, e := staticOrigin(raw); e != nil {
		return e
	}
	return nil
}

// origin is the scheme, userinfo and host[:port] of a URL, as url.Parse
// reads them.
type origin struct {
	scheme, user, host string
}

func originOf(u *url.URL) origin {
	o := origin{scheme: u.Scheme, host: u.Host}
	if u.User != nil {
		o.user = u.User.String()
	}
	return o
}

// staticOrigin returns the origin a URL template's literal prefix fixes;
// the zero origin when raw has no placeholder.
func staticOrigin(raw string) (origin, *Error) {
	open := strings.Index(raw, "{{")
	if open < 0 {
		return origin{}, nil
	}
	refuse := &Error{Template: TemplateURL, Position: runeOffset(raw, open), Message: originMessage}
	prefix := raw[:open]
	i := strings.Index(prefix, "://")
	if i <= 0 || !validScheme(prefix[:i]) {
		return origin{}, refuse
	}
	end := strings.IndexAny(prefix[i+3:], "/?#")
	if end <= 0 { // no end of the authority before the placeholder, or no authority
		return origin{}, refuse
	}
	u, err := url.Parse(prefix[:i+3+end])
	if err != nil || u.Host == "" {
		return origin{}, &Error{Template: TemplateURL, Position: -1, Message: "the URL before the first placeholder does not parse"}
	}
	return originOf(u), nil
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986).
func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// checkRendered fails a rendered URL whose origin is not the template's.
// The escaping of placeholder values should make this impossible; it is
// checked anyway, on every render, because a mistake here would send a
// signed delivery elsewhere.
func (u *urlTemplate) checkRendered(rendered string) *Error {
	p, err := url.Parse(rendered)
	if err != nil {
		return newError(TemplateURL, "the rendered URL does not parse")
	}
	if got := originOf(p); got != u.origin {
		return newError(TemplateURL, "the rendered URL goes to another scheme, host, port or userinfo than the template's; not sent")
	}
	return nil
}
