package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// apiClient calls the gateway's REST API in-process with one user's token.
type apiClient struct {
	h      http.Handler
	token  string
	remote string // the browser's address, so per-address limits see the user
	// forwarded is the browser request's X-Forwarded-For: behind a trusted
	// proxy the API counts the user's address, not the proxy's (the API
	// ignores it from any other peer, as for a request from outside).
	forwarded []string
}

// apiAs is an API client for the browser request r with a token ("" to
// sign in).
func (d *Dashboard) apiAs(r *http.Request, token string) *apiClient {
	return &apiClient{h: d.opts.API, token: token, remote: r.RemoteAddr, forwarded: r.Header.Values("X-Forwarded-For")}
}

// envelope is the API's answer: {metadata, result} or {metadata, errors}.
type envelope struct {
	Metadata map[string]any  `json:"metadata"`
	Result   json.RawMessage `json:"result"`
	Errors   []apiErrorItem  `json:"errors"`
}

type apiErrorItem struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Template string `json:"template,omitempty"`
	Position *int   `json:"position,omitempty"`
}

// APIError is a refusal by the API, shown to the user as the API wrote it.
type APIError struct {
	Status int
	Item   apiErrorItem
}

func (e *APIError) Error() string {
	if e.Item.Message != "" {
		return e.Item.Message
	}
	return fmt.Sprintf("the API answered %d", e.Status)
}

// errSignedOut means the token is missing, expired or no longer valid.
var errSignedOut = errors.New("signed out")

// metaInt reads a number from the envelope's metadata.
func (e *envelope) metaInt(k string) int {
	f, _ := e.Metadata[k].(float64)
	return int(f)
}

// raw sends one request and returns status, headers and body.
func (c *apiClient) raw(ctx context.Context, method, path string, q url.Values, body []byte, contentType string) (int, http.Header, []byte) {
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, _ := http.NewRequestWithContext(ctx, method, "http://hookgate.internal"+target, bytes.NewReader(body))
	req.RequestURI = target // the fiber adaptor reads RequestURI, as a server request has
	req.RemoteAddr = c.remote
	if req.RemoteAddr == "" {
		req.RemoteAddr = "127.0.0.1:0"
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for _, v := range c.forwarded {
		req.Header.Add("X-Forwarded-For", v)
	}
	rec := newRecorder()
	c.h.ServeHTTP(rec, req)
	return rec.status, rec.header, rec.body.Bytes()
}

// call sends a JSON request and decodes the envelope; a 401 is errSignedOut
// and any other error status an *APIError.
func (c *apiClient) call(ctx context.Context, method, path string, q url.Values, in any) (*envelope, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, err
		}
	}
	status, _, raw := c.raw(ctx, method, path, q, body, "application/json")
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil && status < 300 {
		return nil, fmt.Errorf("the API answered %d with no JSON envelope", status)
	}
	if status == http.StatusUnauthorized {
		return nil, errSignedOut
	}
	if status >= 300 {
		ae := &APIError{Status: status}
		if len(env.Errors) > 0 {
			ae.Item = env.Errors[0]
		}
		return &env, ae
	}
	return &env, nil
}

// get decodes the result of a GET into out.
func (c *apiClient) get(ctx context.Context, path string, q url.Values, out any) (*envelope, error) {
	env, err := c.call(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return env, err
	}
	return env, json.Unmarshal(env.Result, out)
}

// recorder is a minimal http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.status = code }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

// tokenAnswer is the token endpoint's success body.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// signIn posts client credentials to the token endpoint.
func (c *apiClient) signIn(ctx context.Context, id, secret string) (tokenAnswer, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	status, _, raw := c.raw(ctx, http.MethodPost, "/authentication/api/oauth/token", nil,
		[]byte(form.Encode()), "application/x-www-form-urlencoded")
	var t tokenAnswer
	if status != http.StatusOK {
		var e struct {
			Description string         `json:"error_description"`
			Errors      []apiErrorItem `json:"errors"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := "the client id or secret is not right"
		if status == http.StatusTooManyRequests {
			msg = "too many sign-in attempts; wait a minute and try again"
			if len(e.Errors) > 0 && e.Errors[0].Message != "" {
				msg = e.Errors[0].Message // names the limit and when to retry
			}
		}
		return t, &APIError{Status: status, Item: apiErrorItem{Code: status, Message: msg}}
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.AccessToken == "" {
		return t, fmt.Errorf("the token endpoint answered no token")
	}
	return t, nil
}

// fetchPresigned follows a pre-signed delivery_log URL in-process (it needs
// no token): only its path and query are used, whatever host it names.
func (c *apiClient) fetchPresigned(ctx context.Context, link string, out any) error {
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/api/v1/webhooks/delivery-logs/") {
		return fmt.Errorf("unexpected delivery_log link")
	}
	saved := c.token
	c.token = ""
	status, _, raw := c.raw(ctx, http.MethodGet, u.EscapedPath(), u.Query(), nil, "")
	c.token = saved
	if status != http.StatusOK {
		return fmt.Errorf("the delivery log file answered %d", status)
	}
	return json.Unmarshal(raw, out)
}
