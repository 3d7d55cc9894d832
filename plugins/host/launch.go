package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/hookgate/hookgate/internal/childproc"
	"github.com/hookgate/hookgate/plugins/internal/batch"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
	"github.com/hookgate/hookgate/plugins/sdk"
)

// launch starts one sink process, configures it and opens its delivery
// stream. On error nothing is left running.
func launch(ctx context.Context, spec Spec, opts *Options, log *slog.Logger) (*proc, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	cmd := command(spec, opts)
	sec, err := secureConfig(spec.SHA256)
	if err != nil {
		return nil, err
	}
	stderr := &tail{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SecureConfig:     sec,
		// limitCPUs puts the gateway's environment into cmd itself.
		SkipHostEnv:     spec.CPUs > 0,
		Logger:          newHclogAdapter(log),
		Stderr:          stderr,
		GRPCDialOptions: dialOptions(),
		StartTimeout:    opts.StartTimeout,
	})
	sc, err := dispense(client)
	if err != nil {
		client.Kill()
		return nil, startError(cmd, spec, err, stderr)
	}
	if err := configure(ctx, sc, spec, opts, client.NegotiatedVersion()); err != nil {
		client.Kill()
		return nil, err
	}
	p, err := newProc(spec.Name, client, cmd, sc, batch.Limits{Max: opts.BatchMax, Linger: opts.BatchLinger}, opts.HungGrace)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("opening the delivery stream: %w", err)
	}
	return p, nil
}

// streamWindow is the flow-control window the host grants a sink for its
// results, on the stream and on the connection: fixed, as large as a batch
// of requests may be (maxBatchBytes), so a window update is rare.
const streamWindow = maxBatchBytes

// dialOptions are the SDK's, with fixed flow-control windows. gRPC's
// default dynamic window measures the bandwidth with a PING round trip
// per burst of data received, for as long as the window has not reached
// 16 MiB, which small results never fill: a ping written, read and
// answered per message of results, on a machine where every write and
// read is a system call of several microseconds.
func dialOptions() []grpc.DialOption {
	return append(sdk.GRPCDialOptions(), grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(streamWindow))
}

func command(spec Spec, opts *Options) *exec.Cmd {
	var cmd *exec.Cmd
	if spec.Type != "" {
		cmd = opts.BuiltinCommand(spec.Type)
	} else {
		cmd = exec.Command(spec.Command)
	}
	if spec.CPUs > 0 {
		limitCPUs(cmd, spec.CPUs)
	}
	// go-plugin cannot clean up after a killed host; an orphaned custom
	// sink might also keep a connection to a remote service.
	childproc.DieWithParent(cmd)
	return cmd
}

// limitCPUs gives cmd the environment go-plugin would (the command's own,
// then the gateway's) with GOMAXPROCS=n in place of any GOMAXPROCS there:
// the sink block's setting wins over one the gateway inherited.
func limitCPUs(cmd *exec.Cmd, n int) {
	env := slices.DeleteFunc(append(slices.Clip(cmd.Env), os.Environ()...), func(kv string) bool {
		return strings.HasPrefix(kv, "GOMAXPROCS=")
	})
	cmd.Env = append(env, "GOMAXPROCS="+strconv.Itoa(n))
}

// secureConfig makes go-plugin refuse to run a binary whose SHA-256 is not
// the pinned one. It is checked on every (re)start, so a binary swapped on
// disk is caught when the process next starts.
func secureConfig(sum string) (*plugin.SecureConfig, error) {
	if sum == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(strings.TrimSpace(sum))
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("sha256: not a hex-encoded SHA-256 (64 hex digits)")
	}
	return &plugin.SecureConfig{Checksum: b, Hash: sha256.New()}, nil
}

func dispense(client *plugin.Client) (sinkpb.SinkClient, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	sc, ok := raw.(sinkpb.SinkClient)
	if !ok {
		return nil, fmt.Errorf("plugin dispensed %T, not a sink client", raw)
	}
	return sc, nil
}

// startError explains a process that did not come up in one line:
// go-plugin's own messages span many lines and assume go-plugin knowledge.
func startError(cmd *exec.Cmd, spec Spec, err error, stderr *tail) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("sha256 mismatch: %s does not match the pinned sha256 %s; refusing to run it", cmd.Path, spec.SHA256)
	case strings.Contains(msg, "exited before we could connect"),
		strings.Contains(msg, "Unrecognized remote plugin message"),
		strings.Contains(msg, "timeout while waiting for plugin"):
		msg = "it did not complete the plugin handshake; is it a hookgate sink built with plugins/sdk?"
		if out := stderr.lastLines(3); out != "" {
			msg += " (stderr: " + out + ")"
		}
	default:
		msg, _, _ = strings.Cut(msg, "\n")
	}
	return fmt.Errorf("starting %s: %s", cmd.Path, msg)
}

// configure sends the sink its settings and the network policy, and to a
// sink of protocol 3 the batch limits of its results. A rejected
// configuration comes back verbatim: it names the setting.
func configure(ctx context.Context, sc sinkpb.SinkClient, spec Spec, opts *Options, protocol int) error {
	req := &sinkpb.ConfigureRequest{
		Name:                 spec.Name,
		Settings:             spec.Settings,
		AllowHttp:            opts.AllowHTTP,
		AllowPrivateNetworks: opts.AllowPrivateNetworks,
	}
	if protocol >= sdk.ProtocolV3 {
		req.BatchMax, req.BatchLingerNs = uint32(opts.BatchMax), int64(opts.BatchLinger)
	}
	if t := opts.Telemetry; t.Enabled() {
		// Every protocol: a sink that does not know the fields ignores them.
		req.OtlpEndpoint, req.OtlpHeaders, req.SampleRatio = t.Endpoint, t.Headers, t.SampleRatio
		req.ServiceName = t.ServiceName + "-sink-" + spec.Name
	}
	resp, err := sc.Configure(ctx, req)
	if err != nil {
		return fmt.Errorf("configure call failed: %w", err)
	}
	if resp.GetError() != "" {
		return errors.New(resp.GetError())
	}
	return nil
}

// exitPoll bounds how long a broken stream waits for the process to be
// reaped, so the failure can say "signal: killed" rather than "EOF".
const exitPoll = 500 * time.Millisecond
