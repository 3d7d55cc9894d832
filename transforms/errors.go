package transforms

import (
	"strconv"
	"unicode/utf8"
)

// Template names used in Error.Template.
const (
	TemplatePayload = "payload"
	TemplateURL     = "url"
)

// Error reads like "payload template: position 12: <message>"; the position
// part is left out when the engine does not give one.
func (e *Error) Error() string {
	s := e.Template + " template: "
	if e.Template == "" {
		s = "template: "
	}
	if e.Position >= 0 {
		s += "position " + strconv.Itoa(e.Position) + ": "
	}
	return s + e.Message
}

// newError builds an Error without a known position.
func newError(template, msg string) *Error {
	return &Error{Template: template, Position: -1, Message: msg}
}

// runeOffset converts a byte offset in s into a character offset, the unit
// Error.Position uses. Offsets past the end are clamped to the length.
func runeOffset(s string, byteOff int) int {
	if byteOff < 0 {
		return -1
	}
	if byteOff > len(s) {
		byteOff = len(s)
	}
	return utf8.RuneCountInString(s[:byteOff])
}

func itoa(i int) string { return strconv.Itoa(i) }
