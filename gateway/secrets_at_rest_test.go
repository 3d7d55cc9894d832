package gateway

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/signature"
)

// runGateway starts a gateway on cfg and returns it with a stop function
// (tests here restart on the same data folder, so no Cleanup does it).
func runGateway(t *testing.T, cfg *config.Config) (*testGateway, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.PublicURL = "http://" + ln.Addr().String()
	g, err := New(context.Background(), Options{Config: cfg, Clock: gatewaytest.NewManualClock(gatewaytest.T0), BuiltinCommand: gatewaytest.SinkCommand,
		Logger: gatewaytest.Logger(), PollInterval: 5 * time.Millisecond})
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	go g.Serve(ln)
	g.Start()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	return &testGateway{T: t, G: g, Base: cfg.Server.PublicURL, Cfg: cfg}, stop
}

// TestSecretsAtRestEndToEnd: after a webhook is created over the API and
// the gateway is closed, no file of the data folder holds its secret or a
// custom header value in the clear; the key file is beside the folder with
// mode 0600; after a restart deliveries are signed correctly; a wrong or
// missing key stops the start with a clear error and changes nothing.
func TestSecretsAtRestEndToEnd(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	cfg := gatewaytest.APIConfig(t)
	cfg.Storage.Path = filepath.Join(t.TempDir(), "data")
	const secret, headerValue = "7d3c1f0e-2b4a-4c5d-8e6f-9a0b1c2d3e4f", "Bearer s3cr3t-receiver-token-9f8e7d"
	tg, stop := runGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.NewHook(rc.Srv.URL+"/in", "workorder.created")
	body["secret"] = secret
	body["webhookAttribute"] = map[string]any{"header": map[string]any{"Authorization": headerValue}}
	id := tg.Create(tok, body)["webhookId"].(string)
	tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	rc.Next(t)
	tg.WaitDelivery(id, "succeeded")
	stop()

	keyFile := cfg.Storage.KeyFile()
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(keyFile) != filepath.Dir(cfg.Storage.Path) {
		t.Fatalf("key file %s: %v, %v", keyFile, st, err)
	}
	scanned := 0
	err = filepath.WalkDir(cfg.Storage.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		for _, s := range []string{secret, headerValue, "s3cr3t-receiver-token"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds %.10s... in the clear", filepath.Base(p), s)
			}
		}
		return nil
	})
	if err != nil || scanned == 0 {
		t.Fatalf("scanned %d files: %v", scanned, err)
	}

	// Restart: deliveries are still signed with the secret and carry the header.
	tg, stop = runGateway(t, cfg)
	tok = tg.Token("acme", "acme-secret")
	tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	got := rc.Next(t)
	if got.Header.Get(delivery.HeaderSignature) != signature.Sign(secret, got.Body) || got.Header.Get("Authorization") != headerValue {
		t.Errorf("after a restart: signature %q, authorization %q", got.Header.Get(delivery.HeaderSignature), got.Header.Get("Authorization"))
	}
	stop()

	// A wrong key: refused, naming both key ids.
	other, _ := secretbox.GenerateKey()
	wrong := *cfg
	wrong.Storage.EncryptionKey = secretbox.EncodeKey(other)
	_, err = New(context.Background(), Options{Config: &wrong, Clock: gatewaytest.NewManualClock(gatewaytest.T0), Sinks: gatewaytest.NopSinks{}, Logger: gatewaytest.Logger()})
	if err == nil || !strings.Contains(err.Error(), "was encrypted with key") || !strings.Contains(err.Error(), secretbox.KeyID(other)) {
		t.Fatalf("wrong key: %v", err)
	}
	// A lost key file: refused, saying so; no new key file is left behind.
	saved, _ := os.ReadFile(keyFile)
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{Config: cfg, Clock: gatewaytest.NewManualClock(gatewaytest.T0), Sinks: gatewaytest.NopSinks{}, Logger: gatewaytest.Logger()})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing key file: %v", err)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new key file replaced the lost one")
	}
	if err := os.WriteFile(keyFile, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop = runGateway(t, cfg) // restored: it opens again
	stop()
}
