package dashboard

import "testing"

// TestTraceLink: a delivery log's trace id is shown as trace tools write
// it and linked only when a trace URL is configured; anything that is not
// a trace id is shown as it is and never put into a link.
func TestTraceLink(t *testing.T) {
	id := "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"
	linked := (&Dashboard{opts: Options{TraceURL: "https://traces.example.com/trace/{trace_id}?x=1"}}).traceLink(&id)
	if linked == nil || linked.ID != "4bf92f3577b34da6a3ce929d0e0e4736" || linked.URL != "https://traces.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736?x=1" {
		t.Errorf("with trace_url: %+v", linked)
	}
	if plain := (&Dashboard{}).traceLink(&id); plain == nil || plain.URL != "" || plain.ID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("without trace_url: %+v, want the id and no link", plain)
	}
	odd := "../../admin?x"
	if l := (&Dashboard{opts: Options{TraceURL: "https://t.example.com/{trace_id}"}}).traceLink(&odd); l == nil || l.URL != "" || l.ID != odd {
		t.Errorf("odd id: %+v, want it shown, not linked", l)
	}
	if l := (&Dashboard{}).traceLink(nil); l != nil {
		t.Errorf("no trace id: %+v, want nil", l)
	}
}
