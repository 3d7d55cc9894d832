package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogHandlerWritesHclogJSON(t *testing.T) {
	var buf bytes.Buffer
	slog.New(NewLogHandler(&buf, slog.LevelDebug)).Warn("careful", "delivery", "d:1")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["@level"] != "warn" || m["@message"] != "careful" || m["delivery"] != "d:1" {
		t.Fatalf("line %s", buf.String())
	}
	if _, err := time.Parse(hclogTime, m["@timestamp"].(string)); err != nil {
		t.Fatalf("go-plugin cannot parse the timestamp: %v", err)
	}
}

type funcSink func(context.Context, *Request) (*Result, error)

func (funcSink) Configure(context.Context, Config) error { return nil }
func (f funcSink) Deliver(ctx context.Context, r *Request) (*Result, error) {
	return f(ctx, r)
}

func TestSafeDeliver(t *testing.T) {
	cases := map[string]struct {
		f    funcSink
		want string
	}{
		"error":  {func(context.Context, *Request) (*Result, error) { return nil, errors.New("db down") }, "sink error: db down"},
		"nil":    {func(context.Context, *Request) (*Result, error) { return nil, nil }, "sink returned no result"},
		"panic":  {func(context.Context, *Request) (*Result, error) { panic("oops") }, "sink panicked: oops"},
		"normal": {func(context.Context, *Request) (*Result, error) { return &Result{Status: 200}, nil }, ""},
	}
	for name, c := range cases {
		res := newServer(c.f, ProtocolV3).safeDeliver(context.Background(), &Request{ID: "x"})
		if res.Error != c.want || (c.want != "" && !res.Retryable) {
			t.Errorf("%s: %+v", name, res)
		}
	}
}

func TestResultBodyIsCapped(t *testing.T) {
	p := resultToProto(1, &Result{Body: []byte(strings.Repeat("a", MaxResponseBody+10))})
	if len(p.GetBody()) != MaxResponseBody {
		t.Fatalf("body %d bytes", len(p.GetBody()))
	}
}

func TestCheckSettingNames(t *testing.T) {
	known := []string{"url", "token"}
	if err := CheckSettingNames(map[string]string{"url": "x", "token": "y"}, known); err != nil {
		t.Fatal(err)
	}
	if err := CheckSettingNames(nil, known); err != nil {
		t.Fatal(err)
	}
	err := CheckSettingNames(map[string]string{"url": "x", "zz": "s3cret", "tokn": "s3cret"}, known)
	if err == nil || err.Error() != "tokn: unknown setting (known: url, token)" {
		t.Fatalf("err = %v", err)
	}
}

func TestResultBodySizeCrossesTheWire(t *testing.T) {
	p := resultToProto(1, &Result{Body: []byte(strings.Repeat("a", MaxResponseBody+10))})
	if p.GetBodySize() != MaxResponseBody+10 {
		t.Fatalf("body size %d, want the whole body's", p.GetBodySize())
	}
	if p := resultToProto(1, &Result{Body: []byte("ab"), BodySize: 1 << 20}); p.GetBodySize() != 1<<20 {
		t.Fatalf("body size %d, want the sink's", p.GetBodySize())
	}
}
