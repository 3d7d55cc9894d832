package gateway

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestPublishedSecretWarning: a client whose secret is the published demo
// value is warned about at start, naming the client, where it is defined
// and how to change it, and whether the gateway listens beyond loopback;
// a client with its own secret is not.
func TestPublishedSecretWarning(t *testing.T) {
	sum := "0fefc1b27100e636d38ff6bc989040691f4a48220d8bc2183b6bbcfd001524c7" // sha256 of the demo secret
	for _, listen := range []string{"127.0.0.1:8080", "0.0.0.0:8080"} {
		cfg := gatewaytest.Config(t)
		cfg.Server.Listen = listen
		cfg.Auth.Clients = append(cfg.Auth.Clients,
			config.Client{ID: "demo", Secret: "demo-secret-change-me", CompanyID: 100, UserID: 1068, Scopes: []string{api.ScopePublish},
				Range: hcl.Range{Filename: "gateway.hcl", Start: hcl.Pos{Line: 103, Column: 3}}},
			config.Client{ID: "hashed-demo", SecretSHA256: sum, CompanyID: 300, Scopes: []string{api.ScopeWebhooksRead}})
		_, logs := startLogged(t, cfg)
		out := logs()
		var warned []string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "SECURITY") {
				warned = append(warned, line)
			}
		}
		if len(warned) != 2 || !strings.Contains(warned[0], `client \"demo\" uses the demo secret published`) ||
			!strings.Contains(warned[0], "gateway.hcl:103") || !strings.Contains(warned[0], "HOOKGATE_DEMO_SECRET") ||
			!strings.Contains(warned[1], `client \"hashed-demo\"`) {
			t.Fatalf("listen %s: warnings\n%s", listen, strings.Join(warned, "\n"))
		}
		network := strings.Contains(warned[0], "reachable from THE NETWORK")
		if network != (listen == "0.0.0.0:8080") {
			t.Errorf("listen %s: %s", listen, warned[0])
		}
		if strings.Contains(out, "demo-secret-change-me") {
			t.Errorf("the secret itself was logged")
		}
	}
}
