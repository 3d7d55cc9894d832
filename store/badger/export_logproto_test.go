//go:build logproto

package badger

import "github.com/hookgate/hookgate/store"

// The store's record codecs, for the log prototype measured beside the
// store (logproto_bench_test.go), so both write the same bytes.

// EncodeEventRecord is encodeEvent.
func EncodeEventRecord(ev *store.Event, deliveries []string) []byte {
	return encodeEvent(ev, deliveries)
}

// DecodeEventRecord is decodeEvent.
func DecodeEventRecord(v []byte) (*store.Event, error) {
	r, err := decodeEvent(v)
	if err != nil {
		return nil, err
	}
	return &r.Event, nil
}

// EncodeDeliveryRecord is encodeDelivery with no flags.
func EncodeDeliveryRecord(d *store.Delivery) []byte { return encodeDelivery(d, 0) }

// DecodeDeliveryRecord is decodeDelivery.
func DecodeDeliveryRecord(v []byte) (*store.Delivery, error) {
	d, _, err := decodeDelivery(v)
	return d, err
}

// EncodeAttemptRecord is encodeAttempt.
func EncodeAttemptRecord(a *store.Attempt) []byte { return encodeAttempt(a) }
