package api

import (
	"bytes"
	"encoding/json"
	"time"
)

// object is a JSON object that keeps its keys in the order they were added,
// so an answer reads id, webhookId, ... as the spec lists them instead of
// alphabetically.
type object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *object {
	return &object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// set adds or replaces key.
func (o *object) set(key string, v any) *object {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
	return o
}

func (o *object) get(key string) (any, bool) {
	v, ok := o.vals[key]
	return v, ok
}

// MarshalJSON writes the keys in insertion order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// project keeps only fields, in the order given.
func (o *object) project(fields []string) *object {
	out := newObject(len(fields))
	for _, f := range fields {
		if v, ok := o.vals[f]; ok {
			out.set(f, v)
		}
	}
	return out
}

// apiTime formats a time the way every answer shows it: RFC 3339 in UTC.
func apiTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// nullIfEmpty turns "" into JSON null, for optional string fields.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
