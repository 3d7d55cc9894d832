package salesforce

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

// settings are the validated config = { ... } of a salesforce sink block.
type settings struct {
	login           *url.URL
	clientID        string
	clientSecret    string
	apiVersion      string
	object          string
	externalIDField string
	tokenTTL        time.Duration
	policy          netguard.Policy
}

var knownSettings = []string{"login_url", "client_id", "client_secret", "api_version", "object", "external_id_field", "token_ttl"}

var (
	apiVersionRE = regexp.MustCompile(`^v[1-9][0-9]*\.[0-9]$`)
	// API names: a letter, then letters, digits and single underscores;
	// custom ones end in __c.
	apiNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// defaultTokenTTL bounds how long a token is reused when the token answer
// has no expires_in, which the client credentials flow does not send: the
// org's session timeout (two hours by default, configurable down to 15
// minutes) is unknown to us, so renew well inside the default and rely on
// the refresh-once on INVALID_SESSION_ID for shorter ones.
const defaultTokenTTL = time.Hour

func parseSettings(cfg sdk.Config) (*settings, error) {
	m := cfg.Settings
	if err := sdk.CheckSettingNames(m, knownSettings); err != nil {
		return nil, err
	}
	s := &settings{
		clientID: m["client_id"], clientSecret: m["client_secret"], apiVersion: m["api_version"],
		object: m["object"], externalIDField: m["external_id_field"], tokenTTL: defaultTokenTTL,
		policy: netguard.Policy{AllowHTTP: cfg.AllowHTTP, AllowPrivateNetworks: cfg.AllowPrivateNetworks},
	}
	var err error
	if s.login, err = baseURL("login_url", m["login_url"], s.policy); err != nil {
		return nil, err
	}
	switch {
	case s.clientID == "":
		return nil, fmt.Errorf("client_id: required (the connected app's consumer key)")
	case s.clientSecret == "":
		return nil, fmt.Errorf("client_secret: required (the connected app's consumer secret)")
	case !apiVersionRE.MatchString(s.apiVersion):
		return nil, fmt.Errorf("api_version: must look like \"v60.0\"")
	}
	for _, f := range []struct{ name, v string }{{"object", s.object}, {"external_id_field", s.externalIDField}} {
		switch {
		case f.v == "":
			return nil, fmt.Errorf("%s: required", f.name)
		case !apiNameRE.MatchString(f.v) || strings.Contains(f.v, "___"):
			return nil, fmt.Errorf("%s: %q is not a Salesforce API name", f.name, f.v)
		}
	}
	if v := m["token_ttl"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return nil, fmt.Errorf("token_ttl: must be a duration of at least 1m, such as \"45m\"")
		}
		s.tokenTTL = d
	}
	return s, nil
}

// baseURL checks a login or instance URL: https (unless allowed), a host,
// no credentials, query or fragment.
func baseURL(name, raw string, p netguard.Policy) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s: required, e.g. \"https://login.salesforce.com\"", name)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s: must be an https URL such as \"https://login.salesforce.com\"", name)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("%s: must be just the address (no path, query or credentials)", name)
	}
	if u.Scheme == "http" && !p.AllowHTTP {
		return nil, fmt.Errorf("%s: must be an https URL (plain http needs delivery.allow_http = true)", name)
	}
	if err := p.CheckURL(u); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}
