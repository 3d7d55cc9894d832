package sinkpb

import (
	"bytes"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func sampleBatch() *HostBatch {
	return &HostBatch{
		Requests: []*DeliverRequest{
			{Id: 1, DeliveryId: "6f1c7a2e-0000-4000-8000-000000000001:1", Method: "POST", Url: "https://example.com/hook?t=1",
				Headers: []string{"Content-Type", "application/json", "X-FN-Signature", "abc", "X-Empty", ""},
				Body:    []byte(`{"a":1}`), TimeoutNs: 10e9, Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			{Id: 2, Method: "PUT", Url: "http://h/ü", TimeoutNs: -1},
			{},
		},
		Cancel: []uint64{7, 1 << 40},
	}
}

// TestUnmarshalHostBatchMatchesProto: the hand-written decoder reads what
// proto.Unmarshal reads, from the messages the host sends and from odd but
// valid encodings (unpacked cancels, a field repeated, unknown fields).
func TestUnmarshalHostBatchMatchesProto(t *testing.T) {
	wire, err := proto.Marshal(sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	odd := slices.Clone(wire)
	odd = protowire.AppendTag(odd, 2, protowire.VarintType) // an unpacked cancel
	odd = protowire.AppendVarint(odd, 99)
	odd = protowire.AppendTag(odd, 15, protowire.BytesType) // unknown field
	odd = protowire.AppendString(odd, "later version")
	req := protowire.AppendTag(nil, 4, protowire.BytesType)
	req = protowire.AppendString(req, "http://first")
	req = protowire.AppendTag(req, 4, protowire.BytesType) // the last one wins
	req = protowire.AppendString(req, "http://second")
	req = protowire.AppendTag(req, 5, protowire.BytesType) // protocol 1's header map: skipped
	req = protowire.AppendBytes(req, []byte{0x0a, 0x01, 'k', 0x12, 0x01, 'v'})
	req = protowire.AppendTag(req, 3, protowire.VarintType) // a known field with another wire type: unknown
	req = protowire.AppendVarint(req, 5)
	odd = protowire.AppendTag(odd, 1, protowire.BytesType)
	odd = protowire.AppendBytes(odd, req)
	for name, b := range map[string][]byte{"host's": wire, "odd": odd, "empty": nil} {
		checkSameDecode(t, name, b)
	}
}

// TestUnmarshalHostBatchRefuses: what proto.Unmarshal refuses, it refuses.
func TestUnmarshalHostBatchRefuses(t *testing.T) {
	wire, _ := proto.Marshal(sampleBatch())
	badUTF8 := protowire.AppendTag(nil, 1, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, protowire.AppendString(protowire.AppendTag(nil, 8, protowire.BytesType), "\xff\xfe"))
	for name, b := range map[string][]byte{
		"truncated":    wire[:len(wire)-3],
		"invalid utf8": badUTF8,
		"field zero":   {0x00, 0x01},
		"bad length":   {0x0a, 0x7f, 0x01},
	} {
		var got HostBatch
		if err := UnmarshalHostBatch(b, &got); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if err := proto.Unmarshal(b, new(HostBatch)); err == nil {
			t.Errorf("%s: proto.Unmarshal accepts it: not a refusal case", name)
		}
	}
}

func FuzzUnmarshalHostBatch(f *testing.F) {
	wire, _ := proto.Marshal(sampleBatch())
	f.Add(wire)
	f.Add([]byte{0x12, 0x02, 0x07, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { checkSameDecode(t, "fuzz", b) })
}

func checkSameDecode(t *testing.T, name string, b []byte) {
	t.Helper()
	var want, got HostBatch
	wantErr := proto.Unmarshal(b, &want)
	gotErr := UnmarshalHostBatch(b, &got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s: error %v, proto.Unmarshal's %v", name, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !slices.Equal(got.Cancel, want.Cancel) || len(got.Requests) != len(want.Requests) {
		t.Fatalf("%s: got %v, want %v", name, &got, &want)
	}
	for i, w := range want.Requests {
		g := got.Requests[i]
		if g.Id != w.Id || g.DeliveryId != w.DeliveryId || g.Method != w.Method || g.Url != w.Url ||
			!slices.Equal(g.Headers, w.Headers) || !bytes.Equal(g.Body, w.Body) || (g.Body == nil) != (w.Body == nil) ||
			g.TimeoutNs != w.TimeoutNs || g.Traceparent != w.Traceparent {
			t.Fatalf("%s: request %d: got %v, want %v", name, i, g, w)
		}
	}
}
