package gateway

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/config"
)

// warnPublishedSecrets warns, once at start, about every client whose
// secret is printed in hookgate's own files (config.PublishedSecrets, the
// demo client's fallback): anyone can get its tokens. A warning, not a
// refusal, so `make run` keeps working on a laptop; it says whether the
// listen address reaches beyond this machine.
func warnPublishedSecrets(cfg *config.Config, log *slog.Logger) {
	for _, cl := range cfg.Auth.Clients {
		if !cl.UsesPublishedSecret() {
			continue
		}
		reach := "this machine only (server.listen is a loopback address)"
		if !loopbackListen(cfg.Server.Listen) {
			reach = "THE NETWORK (server.listen " + cfg.Server.Listen + " is not a loopback address)"
		}
		where := cfg.File
		if cl.Range.Filename != "" {
			where = cl.Range.Filename + ":" + strconv.Itoa(cl.Range.Start.Line)
		}
		log.Warn("SECURITY: client "+strconv.Quote(cl.ID)+" uses the demo secret published in hookgate's gateway.hcl and README: "+
			"anyone who can reach this gateway can get its tokens (company "+strconv.FormatInt(cl.CompanyID, 10)+
			", scopes "+strings.Join(cl.Scopes, " ")+"). It is reachable from "+reach+". "+
			"Give client "+strconv.Quote(cl.ID)+" its own secret in the auth block ("+where+"; for the shipped demo client set HOOKGATE_DEMO_SECRET) or remove it.",
			"client", cl.ID, "company_id", cl.CompanyID, "defined_at", where, "listen", cfg.Server.Listen)
	}
}

// loopbackListen reports whether a listen address accepts connections from
// this machine only.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
