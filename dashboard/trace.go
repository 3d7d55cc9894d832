package dashboard

import (
	"net/url"
	"strings"
)

// traceLink is a delivery log's trace: the id as trace tools write it (32
// lower-case hex: the API's traceId, a UUID, without its dashes) and, when
// Options.TraceURL is set, the viewer's page of it. Nil when the attempt
// carried no trace id.
type traceLink struct{ ID, URL string }

// traceIDPlaceholder is what Options.TraceURL's trace id replaces.
const traceIDPlaceholder = "{trace_id}"

func (d *Dashboard) traceLink(traceUUID *string) *traceLink {
	if traceUUID == nil {
		return nil
	}
	id := strings.ToLower(strings.ReplaceAll(*traceUUID, "-", ""))
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return &traceLink{ID: *traceUUID} // not one of ours: show, never link
	}
	l := &traceLink{ID: id}
	if d.opts.TraceURL != "" {
		l.URL = strings.ReplaceAll(d.opts.TraceURL, traceIDPlaceholder, url.PathEscape(id))
	}
	return l
}
