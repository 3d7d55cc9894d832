package badger

import (
	"encoding/binary"
	"math"
	"time"
)

// The version-2 record header (codec.go): fields in a fixed order,
// each self-delimiting, so a reader needs no field names:
//
//	string  uvarint(len) bytes
//	int     varint (zig-zag)
//	time    uvarint(0) for the zero time, else uvarint(nanos+1)
//	        varint(unix seconds) varint(zone offset in seconds)
//	map     uvarint(0) for nil, else uvarint(n+1) {string string}
//
// Records with byte payloads frame the header as version 1 framed its JSON:
// 0x02 uvarint(len(header)) header {uvarint(len) blob}; a delivery record
// has no payload and is 0x02 header.

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBlob(b, blob []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(blob))), blob...)
}

func appendMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for k, v := range m {
		b = appendStr(appendStr(b, k), v)
	}
	return b
}

// appendTime keeps the instant and the zone offset, which is what the JSON
// of version 1 kept (decoder.time restores the location as time.Parse did).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	_, off := t.Zone()
	b = binary.AppendUvarint(b, uint64(t.Nanosecond())+1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendVarint(b, int64(off))
}

// framed wraps a header written by hdr as 0x02 uvarint(len) header, then
// appends the blobs. The header is written once into b after room for the
// longest length prefix and moved down by the few bytes the prefix leaves.
func framed(sizeHint int, hdr func(b []byte) []byte, blobs ...[]byte) []byte {
	const room = binary.MaxVarintLen64
	n := 1 + room + sizeHint
	for _, bl := range blobs {
		n += binary.MaxVarintLen64 + len(bl)
	}
	b := make([]byte, 1+room, n)
	b[0] = recordBinary
	b = hdr(b)
	hlen := len(b) - 1 - room
	k := binary.PutUvarint(b[1:], uint64(hlen))
	copy(b[1+k:], b[1+room:])
	b = b[:1+k+hlen]
	for _, bl := range blobs {
		b = appendBlob(b, bl)
	}
	return b
}

// decoder reads a version-2 header. Errors are sticky: after the first
// truncated or malformed field every read returns zero and done reports
// errCorrupt.
type decoder struct {
	b   []byte // the header, in badger's buffer (valid during the read)
	s   string // the same bytes copied once: strings are slices of it
	off int
	bad bool
}

// newDecoder starts reading a record of the given layout: with blobs, the
// header is length-prefixed and rest holds the blobs.
func newDecoder(v []byte, withBlobs bool) (d decoder, rest []byte, err error) {
	if len(v) == 0 || v[0] != recordBinary {
		return d, nil, errCorrupt
	}
	hdr := v[1:]
	if withBlobs {
		if hdr, rest, err = cutBlob(hdr); err != nil {
			return d, nil, err
		}
	}
	// One allocation for every string of the record instead of one each.
	return decoder{b: hdr, s: string(hdr)}, rest, nil
}

func (d *decoder) fail() { d.bad, d.off = true, len(d.b) }

// skip passes over n bytes.
func (d *decoder) skip(n int) {
	if n > len(d.b)-d.off {
		d.fail()
		return
	}
	d.off += n
}

func (d *decoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 {
		d.fail()
		return 0
	}
	d.off += k
	return v
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b[d.off:])
	if k <= 0 {
		d.fail()
		return 0
	}
	d.off += k
	return v
}

func (d *decoder) byte() byte {
	if d.off >= len(d.b) {
		d.fail()
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off) {
		d.fail()
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// count reads a length that must fit what is left (at least one byte per
// element), so a corrupt record cannot ask for a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) strMap() map[string]string {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	if n-1 > uint64(len(d.b)-d.off)/2 {
		d.fail()
		return nil
	}
	m := make(map[string]string, n-1)
	for range n - 1 {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) time() time.Time {
	ns := d.uvarint()
	if ns == 0 {
		return time.Time{}
	}
	sec, off := d.varint(), d.varint()
	if ns > 1e9 || off < math.MinInt32 || off > math.MaxInt32 {
		d.fail()
	}
	if d.bad {
		return time.Time{}
	}
	// As time.Parse restores an RFC 3339 offset: Z is UTC, the local zone's
	// offset at that instant is Local, anything else a fixed zone.
	t := time.Unix(sec, int64(ns-1))
	if off == 0 {
		return t.UTC()
	}
	if _, lo := t.Zone(); lo == int(off) {
		return t
	}
	return t.In(time.FixedZone("", int(off)))
}

// done reports errCorrupt if any field was malformed or bytes are left over.
func (d *decoder) done() error {
	if d.bad || d.off != len(d.b) {
		return errCorrupt
	}
	return nil
}
