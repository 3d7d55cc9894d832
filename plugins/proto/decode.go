package sinkpb

import (
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// UnmarshalHostBatch decodes b into hb (reset first) as proto.Unmarshal
// does, but with one allocation for all the batch's strings (they share
// one backing string) and each request's header list sized at once,
// instead of one allocation per string and a list grown by appends: a
// request carries a dozen strings, and the sink decodes thousands of
// requests a second. Bodies get their own slices, so a sink may keep or
// change one without holding the others. Unknown fields are skipped (not
// kept); invalid UTF-8 in a string is refused, as proto3 requires. A
// string kept after its request is done keeps the batch's strings (not
// its bodies) in memory: a few KiB.
func UnmarshalHostBatch(b []byte, hb *HostBatch) error {
	hb.Reset()
	// First pass: check the message and size what the second one fills.
	var d sizes
	if err := walkHostBatch(b, &d, nil); err != nil {
		return err
	}
	var arena strings.Builder
	arena.Grow(d.strBytes)
	f := filler{arena: &arena, reqs: make([]DeliverRequest, d.requests)}
	if d.requests > 0 {
		hb.Requests = make([]*DeliverRequest, 0, d.requests)
	}
	if d.cancels > 0 {
		hb.Cancel = make([]uint64, 0, d.cancels)
	}
	return walkHostBatch(b, &d, &fill{f: &f, hb: hb})
}

var errInvalidUTF8 = errors.New("string field contains invalid UTF-8")

// sizes is what the first pass counts.
type sizes struct {
	requests, cancels, strBytes int
	headers                     []int // per request
}

type filler struct {
	arena *strings.Builder
	reqs  []DeliverRequest // backing for the batch's requests
}

// str copies v into the arena and returns it as a string sharing the
// arena's memory; the arena was grown for every string, so it never moves.
func (f *filler) str(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	start := f.arena.Len()
	f.arena.Write(v)
	return f.arena.String()[start:]
}

type fill struct {
	f  *filler
	hb *HostBatch
}

// walkHostBatch checks b; with fl nil it counts into d, else it fills
// fl.hb.
func walkHostBatch(b []byte, d *sizes, fl *fill) error {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			i := len(d.headers)
			if fl != nil {
				i = len(fl.hb.Requests)
			}
			if err := walkRequest(v, d, i, fl); err != nil {
				return err
			}
			continue
		case num == 2 && (typ == protowire.VarintType || typ == protowire.BytesType):
			// Cancels come packed (a list of varints) or one by one.
			var ids []byte
			if typ == protowire.BytesType {
				ids, n = protowire.ConsumeBytes(b)
			} else {
				_, n = protowire.ConsumeVarint(b)
				ids = b[:max(n, 0)]
			}
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			for len(ids) > 0 {
				id, n := protowire.ConsumeVarint(ids)
				if n < 0 {
					return protowire.ParseError(n)
				}
				ids = ids[n:]
				if fl != nil {
					fl.hb.Cancel = append(fl.hb.Cancel, id)
				} else {
					d.cancels++
				}
			}
			continue
		}
		// Unknown, or a known number with another wire type: skipped.
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// walkRequest checks (and with fl, fills) the i-th request of the batch.
func walkRequest(b []byte, d *sizes, i int, fl *fill) error {
	var r *DeliverRequest
	if fl != nil {
		r = &fl.f.reqs[i]
		if h := d.headers[i]; h > 0 {
			r.Headers = make([]string, 0, h)
		}
		fl.hb.Requests = append(fl.hb.Requests, r)
	} else {
		d.requests++
		d.headers = append(d.headers, 0)
	}
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			if num == 1 || num == 7 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return protowire.ParseError(n)
				}
				b = b[n:]
				if r != nil && num == 1 {
					r.Id = v
				} else if r != nil {
					r.TimeoutNs = int64(v)
				}
				continue
			}
		case protowire.BytesType:
			if num == 2 || num == 3 || num == 4 || num == 6 || num == 8 || num == 9 {
				v, n := protowire.ConsumeBytes(b)
				if n < 0 {
					return protowire.ParseError(n)
				}
				b = b[n:]
				if num == 6 {
					if r != nil {
						r.Body = append([]byte(nil), v...)
					}
					continue
				}
				if r == nil {
					if !utf8.Valid(v) {
						return errInvalidUTF8
					}
					d.strBytes += len(v)
					if num == 8 {
						d.headers[i]++
					}
					continue
				}
				s := fl.f.str(v)
				switch num {
				case 2:
					r.DeliveryId = s
				case 3:
					r.Method = s
				case 4:
					r.Url = s
				case 8:
					r.Headers = append(r.Headers, s)
				case 9:
					r.Traceparent = s
				}
				continue
			}
		}
		// Unknown, or a known number with another wire type: skipped.
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// consumeTag is protowire.ConsumeTag, also refusing a field number past
// protowire.MaxValidNumber as proto.Unmarshal does.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1 // any negative n is a parse error
	}
	return num, typ, n
}
