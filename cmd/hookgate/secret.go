package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/control"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/webhooks"
)

// secretRequest names a webhook: an HCL block's name or a webhookId.
type secretRequest struct {
	Webhook string `json:"webhook"`
}

// handleSecret answers `hookgate secret`: the signing secrets of a webhook,
// which for an HCL block without a secret are generated and stored
// encrypted, so the operator has no other way to read them.
func handleSecret(g *gateway.Gateway) control.Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var req secretRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		id := req.Webhook
		if _, err := uuid.Parse(id); err != nil {
			id = gateway.ConfigWebhookID(req.Webhook) // a block name
		}
		s, err := g.WebhookSecrets(ctx, id)
		if errors.Is(err, webhooks.ErrNotFound) {
			return nil, fmt.Errorf("no webhook %q: give a webhook block's name or a webhookId", req.Webhook)
		}
		return s, err
	}
}

// secret is `hookgate secret [--config FILE] WEBHOOK`: print the secret a
// receiver verifies the webhook's deliveries with (X-FN-Signature), asked
// of the running gateway over its control socket. During a rotation's
// grace both secrets sign, and both are printed, newest first and comma
// separated: the form examples/receiver reads from
// HOOKGATE_WEBHOOK_SECRETS.
func secret(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("secret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file of the running gateway")
	pos, err := parseArgs(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: hookgate secret [--config FILE] WEBHOOK   (a webhook block's name or a webhookId)")
		return 2
	}
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	var s webhooks.Secrets
	if err := callGateway(ctx, cfg, "secret", secretRequest{Webhook: pos[0]}, &s); err != nil {
		fmt.Fprintf(stderr, "hookgate: %v\n", err)
		return 1
	}
	if s.Previous != "" {
		fmt.Fprintf(stdout, "%s,%s\n", s.Secret, s.Previous)
		fmt.Fprintf(stderr, "hookgate: the secret was rotated; the previous one (second) signs beside it until %s\n", s.PreviousUntil.Format("2006-01-02 15:04:05Z07:00"))
		return 0
	}
	fmt.Fprintln(stdout, s.Secret)
	return 0
}
