package transforms

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// FilterModelProperties keeps only the named top-level properties of the envelope's workorder object.
// Everything else in the envelope, including key order and number
// formatting, is kept byte for byte: the envelope is split into raw members
// rather than decoded and re-encoded. Empty props, or an envelope without a
// workorder object, is returned unchanged.
func FilterModelProperties(envelope []byte, props []string) ([]byte, error) {
	if len(props) == 0 {
		return envelope, nil
	}
	top, err := rawMembers(envelope)
	if err != nil {
		return nil, fmt.Errorf("transforms: filter model properties: %w", err)
	}
	keep := make(map[string]bool, len(props))
	for _, p := range props {
		keep[p] = true
	}
	var out bytes.Buffer
	out.Grow(len(envelope))
	out.WriteByte('{')
	changed := false
	for i, m := range top {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(m.rawKey)
		out.WriteByte(':')
		if m.key != "workorder" || len(bytes.TrimSpace(m.value)) == 0 || bytes.TrimSpace(m.value)[0] != '{' {
			out.Write(m.value)
			continue
		}
		wo, err := rawMembers(m.value)
		if err != nil {
			return nil, fmt.Errorf("transforms: filter model properties: workorder: %w", err)
		}
		changed = true
		out.WriteByte('{')
		n := 0
		for _, w := range wo {
			if !keep[w.key] {
				continue
			}
			if n > 0 {
				out.WriteByte(',')
			}
			n++
			out.Write(w.rawKey)
			out.WriteByte(':')
			out.Write(w.value)
		}
		out.WriteByte('}')
	}
	out.WriteByte('}')
	if !changed {
		return envelope, nil
	}
	return out.Bytes(), nil
}

type rawMember struct {
	key    string
	rawKey json.RawMessage
	value  json.RawMessage
}

// rawMembers splits a JSON object into its members without decoding values.
func rawMembers(obj []byte) ([]rawMember, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var ms []rawMember
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		rk, _ := json.Marshal(key)
		ms = append(ms, rawMember{key: key, rawKey: rk, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after object")
	}
	return ms, nil
}
