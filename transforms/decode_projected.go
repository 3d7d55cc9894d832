package transforms

import (
	"bytes"
	"errors"
	"strconv"
)

// decodeProjected is decodeJSON building only the members p names (see
// projection); the rest of the envelope is still read and checked, so it
// refuses exactly what decodeJSON refuses: invalid JSON or UTF-8, duplicate
// names, numbers out of range, trailing data, anywhere in the envelope. A
// nil p decodes everything.
//
// A skipped value costs the scanner's check of its bytes (skipValue; on the
// jsontext path, ReadValue and a scan for its numbers), not the allocation
// of its values.
// On any failure it returns what decodeJSON returns for the same bytes: the
// error then says exactly what the full decode says, and a projected decode
// that refused what the full decode accepts would cost time, not a body.
func decodeProjected(data []byte, form inputForm, p *projection) (any, error) {
	if p == nil {
		return decodeJSON(data, form)
	}
	v, err := decode(data, form, p)
	if err != nil {
		return decodeJSON(data, form)
	}
	return v, nil
}

// projected reads one value, building only what p names; a nil or whole p
// builds all of it.
func (s *decodeState) projected(p *projection) (any, error) {
	if p == nil || p.whole {
		return s.value()
	}
	switch s.d.PeekKind() {
	case '{', '[':
		tok, err := s.d.ReadToken()
		if err != nil {
			return nil, err
		}
		if tok.Kind() == '{' {
			return s.object(p)
		}
		return s.array(p)
	}
	return s.value()
}

// index prepares p's tree for the decoder: the slab sizes in the root, the
// names and kids of every node.
func (p *projection) index() {
	p.keys, p.objects = p.size()
	var walk func(p *projection)
	walk = func(p *projection) {
		p.kids = p.kids[:0]
		for name, c := range p.members {
			c.name = name
			p.kids = append(p.kids, c)
			walk(c)
		}
	}
	walk(p)
}

// maxListedMembers is the member count up to which member looks a name up
// in the list of kids rather than the map: most projected objects have a
// few, and comparing a few strings costs less than hashing one.
const maxListedMembers = 8

// member returns the projection of the member name of an object p
// projects, nil when p does not read it.
func (p *projection) member(name string) *projection {
	if len(p.members) > maxListedMembers || len(p.kids) != len(p.members) {
		return p.members[name]
	}
	for _, c := range p.kids {
		if c.name == name {
			return c
		}
	}
	return nil
}

// size counts the member names and the objects of p's tree (not what its
// whole members hold): what a decode projected by p builds from an envelope
// without arrays on its paths. projectionOf notes it in the root.
func (p *projection) size() (keys, objects int) {
	if p.whole {
		return 0, 0
	}
	keys, objects = len(p.members), 1
	for _, c := range p.members {
		k, o := c.size()
		keys, objects = keys+k, objects+o
	}
	return keys, objects
}

// skip reads past one value without building it. jsontext's ReadValue
// checks it as ReadToken would (syntax, UTF-8, duplicate names, depth);
// what it cannot check is a number decodeJSON refuses as out of range.
func (s *decodeState) skip() error {
	raw, err := s.d.ReadValue()
	if err != nil {
		return err
	}
	return checkNumbers(raw)
}

var errNumberRange = errors.New("number out of range")

// checkNumbers finds a number in raw (one valid JSON value) that
// strconv.ParseFloat refuses, as decodeValue would. Only a literal with an
// exponent or longer than 308 bytes can be out of float64's range (without
// an exponent it is below 10^308), so only those are parsed.
func checkNumbers(raw []byte) error {
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '"':
			i++
			for {
				j := bytes.IndexByte(raw[i:], '"')
				if j < 0 {
					return nil // not reached: raw is valid JSON
				}
				i += j + 1
				if !escapedQuote(raw, i-1) {
					break
				}
			}
		case c == '-' || '0' <= c && c <= '9':
			j, exp := i+1, false
			for ; j < len(raw); j++ {
				b := raw[j]
				if b == 'e' || b == 'E' {
					exp = true
				} else if !('0' <= b && b <= '9' || b == '.' || b == '-' || b == '+') {
					break
				}
			}
			if exp || j-i > 308 {
				if _, err := strconv.ParseFloat(string(raw[i:j]), 64); err != nil {
					return errNumberRange
				}
			}
			i = j
		default:
			i++
		}
	}
	return nil
}

// escapedQuote reports whether the quote at raw[q] is escaped: preceded by
// an odd number of backslashes.
func escapedQuote(raw []byte, q int) bool {
	n := 0
	for k := q - 1; k >= 0 && raw[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}
