package dashboard

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func jsonInto(raw json.RawMessage, out any) error { return json.Unmarshal(raw, out) }

// intParam reads a positive number from the query, def when absent or bad.
func intParam(q url.Values, k string, def int) int {
	n, err := strconv.Atoi(q.Get(k))
	if err != nil || n < 1 {
		return def
	}
	return n
}

// paging copies page and perPage from the page's query to the API's; an
// absent perPage leaves the API's configured default (api.per_page,
// api.log_per_page) in force.
func paging(q, apiQ url.Values) {
	apiQ.Set("page", strconv.Itoa(intParam(q, "page", 1)))
	if n := intParam(q, "perPage", 0); n > 0 {
		apiQ.Set("perPage", strconv.Itoa(n))
	}
}

// pagerOf reads the page, page size and total the API answered.
func pagerOf(env *envelope, shown int) pager {
	return newPager(max(env.metaInt("page"), 1), max(env.metaInt("perPage"), 1), env.metaInt("total"), shown)
}

// pager is the "1–15 of 40" footer of a list.
type pager struct {
	Page, PerPage, Total, From, To int
	HasPrev, HasNext               bool
}

func newPager(page, perPage, total, shown int) pager {
	p := pager{Page: page, PerPage: perPage, Total: total}
	if shown > 0 {
		p.From = (page-1)*perPage + 1
		p.To = p.From + shown - 1
	}
	p.HasPrev = page > 1
	p.HasNext = page*perPage < total
	return p
}

// Prev and Next are the neighbouring page numbers as query values.
func (p pager) Prev() string { return strconv.Itoa(p.Page - 1) }
func (p pager) Next() string { return strconv.Itoa(p.Page + 1) }

// parseLocalTime reads an <input type="datetime-local"> value (or RFC 3339)
// as UTC, the zone every page shows, and returns RFC 3339 for the API.
func parseLocalTime(s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	_, err := time.Parse(time.RFC3339, s)
	return "", err
}
