package servicenow

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

// settings are the validated config = { ... } of a servicenow sink block.
type settings struct {
	instance         *url.URL // scheme://host[:port], no path
	table            string
	correlationField string
	auth             string // "basic" | "oauth"
	grantType        string // oauth: "client_credentials" | "password"
	clientID         string
	clientSecret     string
	username         string
	password         string
}

var knownSettings = []string{
	"instance_url", "table", "correlation_field", "auth", "grant_type",
	"client_id", "client_secret", "username", "password",
}

// ServiceNow table and column names are lowercase letters, digits and
// underscores (custom ones start with u_ or x_); anything else would have
// to be escaped into the URL path or the encoded query.
var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parseSettings validates cfg. Every message names the setting and never
// includes the value of a credential.
func parseSettings(cfg sdk.Config) (*settings, error) {
	m := cfg.Settings
	if err := sdk.CheckSettingNames(m, knownSettings); err != nil {
		return nil, err
	}
	s := &settings{
		table: m["table"], correlationField: m["correlation_field"], auth: m["auth"],
		grantType: m["grant_type"], clientID: m["client_id"], clientSecret: m["client_secret"],
		username: m["username"], password: m["password"],
	}
	var err error
	if s.instance, err = instanceURL(m["instance_url"], netguard.Policy{AllowHTTP: cfg.AllowHTTP, AllowPrivateNetworks: cfg.AllowPrivateNetworks}); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"table", s.table}, {"correlation_field", s.correlationField}} {
		switch {
		case f.v == "":
			return nil, fmt.Errorf("%s: required", f.name)
		case !identRE.MatchString(f.v):
			return nil, fmt.Errorf("%s: %q is not a ServiceNow name (lowercase letters, digits and _)", f.name, f.v)
		}
	}
	return s, s.checkAuth()
}

func instanceURL(raw string, p netguard.Policy) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("instance_url: required, e.g. \"https://acme.service-now.com\"")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("instance_url: must be an https URL such as \"https://acme.service-now.com\"")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("instance_url: must be just the instance address (no path, query or credentials), e.g. \"https://acme.service-now.com\"")
	}
	if u.Scheme == "http" && !p.AllowHTTP {
		return nil, fmt.Errorf("instance_url: must be an https URL (plain http needs delivery.allow_http = true)")
	}
	if err := p.CheckURL(u); err != nil {
		return nil, fmt.Errorf("instance_url: %v", err)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

func (s *settings) checkAuth() error {
	switch s.auth {
	case "basic":
		if s.username == "" || s.password == "" {
			return fmt.Errorf("%s: required when auth = \"basic\"", firstEmpty(map[string]string{"username": s.username, "password": s.password}))
		}
		if s.clientID != "" || s.clientSecret != "" || s.grantType != "" {
			return fmt.Errorf("client_id, client_secret, grant_type: only used when auth = \"oauth\"; remove them or set auth = \"oauth\"")
		}
		return nil
	case "oauth":
	default:
		return fmt.Errorf("auth: must be basic or oauth")
	}
	if s.clientID == "" || s.clientSecret == "" {
		return fmt.Errorf("%s: required when auth = \"oauth\"", firstEmpty(map[string]string{"client_id": s.clientID, "client_secret": s.clientSecret}))
	}
	if s.grantType == "" {
		// The example gives client and user credentials together:
		// that is the password grant; client credentials alone is the
		// client_credentials grant.
		s.grantType = "client_credentials"
		if s.username != "" || s.password != "" {
			s.grantType = "password"
		}
	}
	switch s.grantType {
	case "password":
		if s.username == "" || s.password == "" {
			return fmt.Errorf("%s: required when auth = \"oauth\" uses the password grant", firstEmpty(map[string]string{"username": s.username, "password": s.password}))
		}
	case "client_credentials":
		if s.username != "" || s.password != "" {
			return fmt.Errorf("username, password: not used by grant_type = \"client_credentials\"; remove them or set grant_type = \"password\"")
		}
	default:
		return fmt.Errorf("grant_type: must be client_credentials or password")
	}
	return nil
}

// firstEmpty names the first empty setting, in a stable order.
func firstEmpty(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if m[k] == "" {
			return k
		}
	}
	return keys[0]
}
