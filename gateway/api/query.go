package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// listSpec describes what one list endpoint accepts (spec "Common Request
// Patterns"): page sizes, sortable fields and selectable fields.
type listSpec struct {
	defaultPerPage int
	sortable       []string
	defaultSort    string
	fields         []string // every selectable field, in output order
	defaultFields  []string
}

// listQuery is a parsed page/perPage/sortBy/sortDirection/fields/search.
type listQuery struct {
	page, perPage int
	sortBy        string
	desc          bool
	fields        []string
	fieldsAsked   bool // fields was given (it may name fields hidden by default)
	search        string
}

// offset is the index of the page's first item.
func (q listQuery) offset() int { return (q.page - 1) * q.perPage }

// window returns the bounds of the page within n items.
func (q listQuery) window(n int) (lo, hi int) {
	lo = min(q.offset(), n)
	return lo, min(lo+q.perPage, n)
}

// parseList reads the common query parameters; any bad value is a 400 that
// names the parameter and what it accepts.
func (s *Server) parseList(c *fiber.Ctx, spec listSpec) (listQuery, error) {
	q := listQuery{page: 1, perPage: spec.defaultPerPage, sortBy: spec.defaultSort, desc: true}
	var err error
	if q.page, err = intParam(c, "page", 1, 1, 1<<30); err != nil {
		return q, err
	}
	maxPer := s.cfg.API.MaxPerPage
	if q.perPage, err = intParam(c, "perPage", spec.defaultPerPage, 1, maxPer); err != nil {
		return q, err
	}
	if s := c.Query("sortBy"); s != "" {
		if !slices.Contains(spec.sortable, s) {
			return q, badRequest("'sortBy' must be one of " + strings.Join(spec.sortable, ", ") + ", not " + quote(s))
		}
		q.sortBy = s
	}
	switch d := strings.ToUpper(c.Query("sortDirection")); d {
	case "", "DESC":
	case "ASC":
		q.desc = false
	default:
		return q, badRequest("'sortDirection' must be ASC or DESC, not " + quote(c.Query("sortDirection")))
	}
	q.search = strings.TrimSpace(c.Query("search"))
	q.fields, q.fieldsAsked, err = parseFields(c, spec)
	return q, err
}

// parseFields accepts fields=a,b and the exploded fields=a&fields=b form the
// OpenAPI uses for some lists. An unknown name is a 400.
func parseFields(c *fiber.Ctx, spec listSpec) ([]string, bool, error) {
	var names []string
	for _, v := range c.Context().QueryArgs().PeekMulti("fields") {
		for _, f := range strings.Split(string(v), ",") {
			if f = strings.TrimSpace(f); f != "" && !slices.Contains(names, f) {
				names = append(names, f)
			}
		}
	}
	if len(names) == 0 {
		return spec.defaultFields, false, nil
	}
	for _, f := range names {
		if !slices.Contains(spec.fields, f) {
			return nil, true, badRequest("'fields' names an unknown field " + quote(f) + "; valid fields: " + strings.Join(spec.fields, ", "))
		}
	}
	return names, true, nil
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("'" + name + "' must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ", not " + quote(s))
	}
	return n, nil
}

// echoSent sets name in an answer's metadata.query only when the client sent
// a value: Field Nation's examples echo what was asked, never null for a
// filter left out (the document types them as strings).
func echoSent(query fiber.Map, name, value string) {
	if value != "" {
		query[name] = value
	}
}

// badRequest is the spec's 400: "Invalid request: <what>".
func badRequest(msg string) error { return Errorf(fiber.StatusBadRequest, "Invalid request: "+msg) }

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// unescape decodes a path parameter a client percent-encoded (a delivery
// id's ':' as %3A, a header name); it is kept as is when it does not decode.
func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
