package transforms

import "time"

// Defaults applied when Options leaves a limit at zero.
const (
	DefaultTimeout  = 100 * time.Millisecond
	DefaultMaxDepth = 200
)

// MaxTemplateBytes caps the length of one template (or one URL). Beyond
// catching mistakes it is what makes the nesting check sound: engines parse
// recursively, and with a bounded source even a nesting the bracket scan
// miscounts (say, brackets hidden in a regex literal) cannot come close to
// exhausting the goroutine stack.
const MaxTemplateBytes = 64 << 10

// limits are the bounds applied to one evaluation.
type limits struct {
	timeout  time.Duration
	maxDepth int
}

func (o Options) limits() limits {
	l := limits{timeout: o.Timeout, maxDepth: o.MaxDepth}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	if l.maxDepth <= 0 {
		l.maxDepth = DefaultMaxDepth
	}
	return l
}

// nestingDepth returns the deepest bracket nesting of a JSONata source and
// the byte offset of the first bracket that opens a level beyond limit (-1
// when none does). Strings, `quoted names` and
// /* comments */ are skipped; regex literals are not recognized (telling
// them from division needs a parser), which can only misplace the count by
// the brackets inside them - MaxTemplateBytes bounds what that could hide.
func nestingDepth(src string, limit int) (depth, at int) {
	cur, at := 0, -1
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && c != '`' {
					i++
				}
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '*' {
				end := indexFrom(src, "*/", i+2)
				if end < 0 {
					return depth, at
				}
				i = end + 1
			}
		case '(', '[', '{':
			cur++
			depth = max(depth, cur)
			if cur > limit && at < 0 {
				at = i
			}
		case ')', ']', '}':
			if cur > 0 {
				cur--
			}
		}
	}
	return depth, at
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// checkSource applies the engine-independent source limits.
func checkSource(src string, maxDepth int) *Error {
	if len(src) > MaxTemplateBytes {
		return &Error{Position: -1, Message: "template longer than " + itoa(MaxTemplateBytes) + " bytes"}
	}
	if _, at := nestingDepth(src, maxDepth); at >= 0 {
		return &Error{Position: runeOffset(src, at), Message: "template nested deeper than the depth limit (" + itoa(maxDepth) + ")"}
	}
	return nil
}
