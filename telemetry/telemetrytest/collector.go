// Package telemetrytest is an OTLP/HTTP trace receiver for tests: a
// loopback server that decodes the protobuf an exporter posts to
// /v1/traces and keeps the spans, so a test asserts what a real collector
// gets.
package telemetrytest

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one span as received, ids in hex as W3C writes them.
type Span struct {
	Service  string // the resource's service.name
	Name     string
	TraceID  string
	SpanID   string
	ParentID string // "" for a root
	Kind     string // "SPAN_KIND_SERVER", ...
	Attrs    map[string]string
	Error    bool // status code ERROR
}

// Collector is a running receiver.
type Collector struct {
	URL     string // the OTLP/HTTP base URL (the exporter appends /v1/traces)
	mu      sync.Mutex
	spans   []Span
	changed chan struct{}
}

// Start starts a collector on loopback, closed when t ends.
func Start(t testing.TB) *Collector {
	c := &Collector{changed: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf POST to /v1/traces", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req collectorpb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.add(&req)
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *Collector) add(req *collectorpb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{Service: service, Name: s.GetName(), TraceID: hex.EncodeToString(s.GetTraceId()),
					SpanID: hex.EncodeToString(s.GetSpanId()), ParentID: hex.EncodeToString(s.GetParentSpanId()),
					Kind: s.GetKind().String(), Attrs: map[string]string{},
					Error: s.GetStatus().GetCode().String() == "STATUS_CODE_ERROR"}
				for _, kv := range s.GetAttributes() {
					v := kv.GetValue()
					switch {
					case v.GetStringValue() != "":
						sp.Attrs[kv.GetKey()] = v.GetStringValue()
					default:
						sp.Attrs[kv.GetKey()] = v.String()
					}
				}
				c.spans = append(c.spans, sp)
			}
		}
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Spans returns the spans received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// WaitFor waits until done holds for the spans received, up to timeout
// (exports are real I/O from other processes), and returns them.
func (c *Collector) WaitFor(t testing.TB, timeout time.Duration, done func([]Span) bool) []Span {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		spans := c.Spans()
		if done(spans) {
			return spans
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			t.Fatalf("collector: spans still incomplete after %v; got %d: %v", timeout, len(spans), spans)
			return nil
		}
	}
}
