package gateway

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/webhooks"
)

// ReloadSummary counts what applying the HCL webhooks changed.
type ReloadSummary = webhooks.ReloadSummary

// ConfigWebhookID is the webhookId of the HCL block `webhook "name"`.
func ConfigWebhookID(name string) string { return webhooks.ConfigWebhookID(name) }

// reconcileConfigWebhooks applies the webhook blocks of the config the
// gateway started with.
func (g *Gateway) reconcileConfigWebhooks(ctx context.Context) error {
	_, err := g.applyConfigWebhooks(ctx, g.cfg.File, g.cfg.Webhooks)
	return err
}

// applyConfigWebhooks applies the given blocks (webhooks.Service.ApplyConfig)
// on one replica at a time when the store is shared (an advisory lock).
func (g *Gateway) applyConfigWebhooks(ctx context.Context, file string, blocks []config.Webhook) (ReloadSummary, error) {
	var sum ReloadSummary
	err := g.exclusive(ctx, lockReconcile, func(ctx context.Context) error {
		var err error
		sum, err = g.hooks.ApplyConfig(ctx, file, blocks, g.cfg.Delivery.SecretGracePeriod)
		return err
	})
	return sum, err
}

// ReloadReport is what a reload applied, and what waits for a restart.
type ReloadReport struct {
	File string `json:"file"`
	ReloadSummary
	// RestartNeeded names each block other than the webhooks that differs
	// from the config the gateway started with (`server`, `sink "snow"`,
	// ...): read at start only, such a change is not in effect until a
	// restart.
	RestartNeeded []string `json:"restartNeeded"`
}

// Reload applies the webhook blocks of a newly loaded config (SIGHUP or
// `hookgate reload`): created, changed and removed blocks take effect at
// once and are recorded in each webhook's history. Other blocks are read
// at start only; a change to them is reported (and logged) as needing a
// restart, except the companies lists of sink blocks, which apply at once
// (webhooks/sinks.go): API webhooks whose company loses its sink are
// deactivated. A block naming a sink that is not running, or one its
// company may not use, is refused, and nothing is applied.
func (g *Gateway) Reload(ctx context.Context, cfg *config.Config) (ReloadReport, error) {
	rep := ReloadReport{File: cfg.File}
	running := g.sinkNames()
	for _, w := range cfg.Webhooks {
		if !slices.Contains(running, w.Sink) {
			return rep, fmt.Errorf("%s:%d webhook %q: sink %q is not running; a new sink block takes effect at restart",
				w.Range.Filename, w.Range.Start.Line, w.Name, w.Sink)
		}
	}
	sinks := webhooks.ReloadedSinks(g.cfg.Sinks, cfg.Sinks)
	if err := webhooks.CheckBlockSinks(cfg.Webhooks, webhooks.NewSinkAccess(sinks)); err != nil {
		return rep, err
	}
	rep.RestartNeeded = restartOnly(g.cfg, cfg)
	for _, b := range rep.RestartNeeded {
		g.log.Warn("config changed in a block that is read at start only; restart to apply it", "block", b)
	}
	g.sinkAccess.Set(sinks)
	sum, err := g.applyConfigWebhooks(ctx, cfg.File, cfg.Webhooks)
	rep.ReloadSummary = sum
	if err != nil {
		return rep, err
	}
	g.log.Info("config reloaded", "file", cfg.File, "created", sum.Created, "updated", sum.Updated,
		"deleted", sum.Deleted, "unchanged", len(sum.Unchanged), "deactivated", sum.Deactivated,
		"restart_needed", rep.RestartNeeded)
	return rep, nil
}

// sinkNames lists the sinks running since start: the built-in http and
// every sink block.
func (g *Gateway) sinkNames() []string {
	names := []string{config.BuiltinSink}
	for _, s := range g.cfg.Sinks {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	return names
}

// restartOnly names the blocks other than webhooks that differ; labelled
// blocks (sinks, companies, auth clients) one by one.
func restartOnly(old, next *config.Config) []string {
	var out []string
	blocks := []struct {
		name string
		a, b any
	}{
		{"server", old.Server, next.Server}, {"storage", old.Storage, next.Storage},
		{"delivery", old.Delivery, next.Delivery}, {"auth", authSettings(old.Auth), authSettings(next.Auth)},
		{"transforms", old.Transforms, next.Transforms}, {"api", old.API, next.API},
		{"smtp", old.SMTP, next.SMTP}, {"lifecycle", old.Lifecycle, next.Lifecycle},
		{"delivery_log", old.DeliveryLog, next.DeliveryLog}, {"quotas", old.Quotas, next.Quotas},
	}
	for _, b := range blocks {
		if !reflect.DeepEqual(b.a, b.b) {
			out = append(out, b.name)
		}
	}
	out = append(out, changedLabels(`auth client %q`, stripRanges(old.Auth).Clients, stripRanges(next.Auth).Clients,
		func(c config.Client) string { return c.ID })...)
	out = append(out, changedLabels(`sink %q`, sinkKeys(old.Sinks), sinkKeys(next.Sinks),
		func(s config.Sink) string { return s.Name })...)
	out = append(out, changedLabels(`company %s`, companyKeys(old.Companies), companyKeys(next.Companies),
		func(c config.Company) string { return strconv.FormatInt(c.ID, 10) })...)
	return out
}

// changedLabels names, with format, each labelled block added, removed or
// changed between a and b, in label order.
func changedLabels[T any](format string, a, b []T, label func(T) string) []string {
	byLabel := func(xs []T) map[string]T {
		m := make(map[string]T, len(xs))
		for _, x := range xs {
			m[label(x)] = x
		}
		return m
	}
	ma, mb := byLabel(a), byLabel(b)
	var out []string
	labels := slices.Collect(maps.Keys(ma))
	for l := range mb {
		if _, ok := ma[l]; !ok {
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	for _, l := range labels {
		x, inA := ma[l]
		y, inB := mb[l]
		if inA != inB || !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf(format, l))
		}
	}
	return out
}

// authSettings is the auth block without its clients, which changedLabels
// names one by one.
func authSettings(a config.Auth) config.Auth {
	a.Clients = nil
	return a
}

// stripRanges drops source positions, which move when lines are added above.
func stripRanges(a config.Auth) config.Auth {
	a.Clients = slices.Clone(a.Clients)
	for i := range a.Clients {
		a.Clients[i].Range = hcl.Range{}
	}
	return a
}

func companyKeys(cs []config.Company) []config.Company {
	out := slices.Clone(cs)
	for i := range out {
		out[i].Range = hcl.Range{}
	}
	return out
}

// sinkKeys drops what need not wait for a restart: positions, and the
// companies lists, which Reload applies.
func sinkKeys(sinks []config.Sink) []config.Sink {
	out := slices.Clone(sinks)
	for i := range out {
		out[i].Range, out[i].Companies = hcl.Range{}, nil
	}
	return out
}
