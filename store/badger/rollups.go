package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Per-minute rollups (store.Rollups; docs/storage.md, "Rollups").
//
// One key per scope and minute: r/<company8><webhookID>\0<minute8>, so a
// chart's range is one prefix scan in minute order. Each key carries a
// Badger TTL that ends RollupRetention after its minute (by the store's
// clock), so retention needs no sweep. Adding to a minute reads the stored
// value in the committer's transaction and writes the sum, which is safe
// because the committer is the only writer.

var _ store.Rollups = (*Store)(nil)

const pRollup = "r\x00" // r/<company8><webhookID>\0<minute8> → rollup (rollupVersion)

// rollupVersion is the first byte of a rollup value.
const rollupVersion = 1

func rollupPrefix(company int64, webhookID string) []byte {
	k := append(make([]byte, 0, len(pRollup)+8+len(webhookID)+1+8), pRollup...)
	k = binary.BigEndian.AppendUint64(k, uint64(company))
	return append(append(k, webhookID...), 0)
}

func rollupKey(company int64, webhookID string, minute time.Time) []byte {
	return binary.BigEndian.AppendUint64(rollupPrefix(company, webhookID), timeKey(minute))
}

// AddRollups adds each rollup to its stored minute (store.Rollups).
// Minutes already past the retention are dropped.
func (s *Store) AddRollups(ctx context.Context, rs []store.Rollup) error {
	if len(rs) == 0 {
		return ctx.Err()
	}
	size := 0
	for _, r := range rs {
		size += 64 + len(r.WebhookID) + 10*len(r.Latency)
	}
	return s.submit(ctx, size, func(w *wtx) error {
		now := s.now()
		for _, r := range rs {
			r.Minute = store.RollupMinute(r.Minute)
			ttl := s.rollupRetention - now.Sub(r.Minute)
			if ttl <= 0 {
				continue
			}
			k := rollupKey(r.CompanyID, r.WebhookID, r.Minute)
			old, err := getValue(w.txn, k)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				prev, err := decodeRollup(old)
				if err != nil {
					return fmt.Errorf("store: rollup %x: %w", k, err)
				}
				prev.Add(r)
				r.Attempts, r.Latency, r.Depth = prev.Attempts, prev.Latency, prev.Depth
			}
			if err := w.txn.SetEntry(badger.NewEntry(k, encodeRollup(r)).WithTTL(ttl)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListRollups returns one scope's rollups over [From, To), oldest first.
func (s *Store) ListRollups(ctx context.Context, f store.RollupFilter) ([]store.Rollup, error) {
	prefix := rollupPrefix(f.CompanyID, f.WebhookID)
	from := binary.BigEndian.AppendUint64(bytes.Clone(prefix), timeKey(f.From))
	to := binary.BigEndian.AppendUint64(bytes.Clone(prefix), timeKey(f.To))
	var out []store.Rollup
	err := s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(from); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if !f.To.IsZero() && bytes.Compare(k, to) >= 0 {
				break
			}
			if len(k) != len(prefix)+8 {
				continue // not a rollup key (ids hold no \0, so none should be)
			}
			var r store.Rollup
			if err := item.Value(func(v []byte) error {
				var err error
				r, err = decodeRollup(v)
				return err
			}); err != nil {
				return fmt.Errorf("store: rollup %x: %w", k, err)
			}
			r.CompanyID, r.WebhookID = f.CompanyID, f.WebhookID
			r.Minute = keyTime(binary.BigEndian.Uint64(k[len(prefix):]))
			out = append(out, r)
		}
		return ctx.Err()
	})
	return out, err
}

// encodeRollup: version, outcome count, each (name, count), histogram
// length and counts, three depths; all uvarints (names length-prefixed).
// Scope and minute are in the key.
func encodeRollup(r store.Rollup) []byte {
	h := r.Latency.Trim()
	b := make([]byte, 0, 16+12*len(r.Attempts)+2*len(h))
	b = append(b, rollupVersion)
	b = binary.AppendUvarint(b, uint64(len(r.Attempts)))
	for o, n := range r.Attempts {
		b = binary.AppendUvarint(b, uint64(len(o)))
		b = append(b, o...)
		b = binary.AppendUvarint(b, uint64(max(n, 0)))
	}
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, n := range h {
		b = binary.AppendUvarint(b, uint64(max(n, 0)))
	}
	for _, d := range r.Depth {
		b = binary.AppendUvarint(b, uint64(max(d, 0)))
	}
	return b
}

func decodeRollup(v []byte) (store.Rollup, error) {
	var r store.Rollup
	if len(v) == 0 || v[0] != rollupVersion {
		return r, fmt.Errorf("rollup version %v: %w", v[:min(len(v), 1)], errCorrupt)
	}
	rd := rollupReader{b: v[1:]}
	if n := rd.uvarint(); n > 0 && n <= uint64(len(rd.b)) {
		r.Attempts = make(map[store.Outcome]int64, n)
		for range n {
			l := rd.uvarint()
			if l > uint64(len(rd.b)) {
				rd.bad = true
				break
			}
			name := store.Outcome(rd.b[:l])
			rd.b = rd.b[l:]
			r.Attempts[name] = int64(rd.uvarint())
		}
	}
	if n := rd.uvarint(); n > 0 && n <= store.HistogramBuckets {
		r.Latency = make(store.Histogram, n)
		for i := range r.Latency {
			r.Latency[i] = int64(rd.uvarint())
		}
	} else if n > store.HistogramBuckets {
		rd.bad = true
	}
	for i := range r.Depth {
		r.Depth[i] = int64(rd.uvarint())
	}
	if rd.bad || len(rd.b) != 0 {
		return store.Rollup{}, fmt.Errorf("rollup record: %w", errCorrupt)
	}
	return r, nil
}

// rollupReader reads uvarints, remembering a short or bad one.
type rollupReader struct {
	b   []byte
	bad bool
}

func (r *rollupReader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}
