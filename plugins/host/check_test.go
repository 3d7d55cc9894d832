package host_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

func TestCheckRunsTheSinksConfigure(t *testing.T) {
	opts := host.Options{BuiltinCommand: sdktest.Command, Logger: discardLogger()}
	err := host.Check(context.Background(), opts, host.Spec{Name: "snow", Type: "strict", Settings: map[string]string{"instance_url": "http://x"}})
	var se *host.SinkError
	if !errors.As(err, &se) || se.Sink != "snow" || err.Error() != `sink "snow": instance_url: must be an https URL` {
		t.Fatalf("err = %v", err)
	}
	ok := host.Spec{Name: "snow", Type: "strict", Settings: map[string]string{"instance_url": "https://x"}}
	if err := host.Check(context.Background(), opts, ok); err != nil {
		t.Fatal(err)
	}
}

func TestStartErrorIsASinkError(t *testing.T) {
	h := host.New(host.Options{BuiltinCommand: sdktest.Command, Logger: discardLogger()})
	defer h.Close()
	err := h.Start(context.Background(), []host.Spec{{Name: "s", Type: "strict"}})
	var se *host.SinkError
	if !errors.As(err, &se) || se.Sink != "s" {
		t.Fatalf("err = %v", err)
	}
}
