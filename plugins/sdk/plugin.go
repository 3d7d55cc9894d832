package sdk

import (
	"cmp"
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// Versions of the sink contract (plugins/proto/sink.proto). The handshake
// settles on the highest one both sides speak: this SDK and the host speak
// both, so a sink built with an older SDK (protocol 2 only) still works
// with a newer gateway, and a new sink with an older gateway.
const (
	// ProtocolV2: headers as flat name/value lists; each side sends
	// whatever is queued as one message.
	ProtocolV2 = 2
	// ProtocolV3: the host also sends batch limits in Configure
	// (batch_max, batch_linger_ns) and the sink holds a finished result up
	// to the linger, while other requests still run, for others to share
	// its message.
	ProtocolV3 = 3
)

// Handshake is the go-plugin handshake shared by the gateway and every sink.
// The cookie only stops the binary from being run by mistake (it is not a
// security measure). ProtocolVersion is the oldest version spoken; the
// versions themselves are VersionedPlugins' keys. A version changes when
// sinkpb changes incompatibly, so a sink too old fails at start with a
// clear message.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolV2,
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
	// Protocol is the contract version the sink side serves (ProtocolV2 or
	// ProtocolV3); 0 means the newest.
	Protocol int
}

// PluginSet returns the plugin map to serve impl at the newest protocol,
// or, with a nil impl, the map a host passes to plugin.ClientConfig.Plugins.
func PluginSet(impl Sink) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl, Protocol: ProtocolV3}}
}

// VersionedPlugins returns a plugin map per protocol version this SDK
// speaks, serving impl, or, with a nil impl, what a host passes to
// plugin.ClientConfig.VersionedPlugins. Each call returns a fresh map
// (go-plugin's client adds to the one it is given).
func VersionedPlugins(impl Sink) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolV2: {PluginName: &GRPCPlugin{Impl: impl, Protocol: ProtocolV2}},
		ProtocolV3: {PluginName: &GRPCPlugin{Impl: impl, Protocol: ProtocolV3}},
	}
}

// GRPCServer registers the sink's gRPC service (sink side).
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sinkpb.RegisterSinkServer(s, newServer(p.Impl, cmp.Or(p.Protocol, ProtocolV3)))
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
