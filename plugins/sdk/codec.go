package sdk

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec wrapped here
	"google.golang.org/grpc/mem"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// streamCodec is gRPC's proto codec, except that the host's request
// batches are decoded by sinkpb.UnmarshalHostBatch: one allocation for all
// of a batch's strings instead of one per string (a request has a dozen),
// the same messages otherwise. Everything else goes to the proto codec.
type streamCodec struct{ std encoding.CodecV2 }

func newStreamCodec() streamCodec { return streamCodec{std: encoding.GetCodecV2("proto")} }

func (c streamCodec) Name() string { return c.std.Name() }

func (c streamCodec) Marshal(v any) (mem.BufferSlice, error) { return c.std.Marshal(v) }

func (c streamCodec) Unmarshal(data mem.BufferSlice, v any) error {
	hb, ok := v.(*sinkpb.HostBatch)
	if !ok {
		return c.std.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return sinkpb.UnmarshalHostBatch(buf.ReadOnlyData(), hb)
}
