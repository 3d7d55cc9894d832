package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// Handshake is the go-plugin handshake shared by the gateway and every sink.
// The cookie only stops the binary from being run by mistake (it is not a
// security measure); ProtocolVersion changes when sinkpb changes
// incompatibly, so an old sink fails at start with a clear message
// (2: headers became flat name/value lists instead of maps).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  2,
	MagicCookieKey:   "HOOKGATE_PLUGIN",
	MagicCookieValue: "7c1f0e9a3b5d4e2f8a6c0b1d9e7f3a5c",
}

// PluginName is the name under which a sink is dispensed.
const PluginName = "sink"

// MaxMessageSize bounds one gRPC message on the delivery stream, in both
// directions. gRPC's default (4 MiB) is too small for a batch of requests
// with large bodies; senders keep batches well below this.
const MaxMessageSize = 64 << 20

// MaxRequestBody is the largest request body the host passes to a sink; it
// leaves room in MaxMessageSize for the URL and headers.
const MaxRequestBody = 32 << 20

// GRPCPlugin is the go-plugin glue for a sink. The sink side sets Impl; the
// host side leaves it nil and gets a sinkpb.SinkClient from Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Sink
}

// PluginSet returns the plugin map to serve impl, or, with a nil impl, the
// map a host passes to plugin.ClientConfig.Plugins.
func PluginSet(impl Sink) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl}}
}

// GRPCServer registers the sink's gRPC service (sink side).
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sinkpb.RegisterSinkServer(s, newServer(p.Impl))
	return nil
}

// GRPCClient returns a sinkpb.SinkClient (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return sinkpb.NewSinkClient(c), nil
}

// GRPCDialOptions are the options a host must dial a sink with, matching
// the limits Serve sets on the sink side.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageSize),
		grpc.MaxCallSendMsgSize(MaxMessageSize),
	)}
}
