package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const key32 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes, base64

func hookWith(url, extra string) string {
	return fmt.Sprintf("webhook \"w\" {\n  company_id = 1\n  url = %q\n  events = [\"workorder.created\"]\n%s}\n", url, extra)
}

// TestLiteralPrivateURLRefused: the netguard rule at load time, for
// literal addresses and numeric spellings; names are left to dial time.
func TestLiteralPrivateURLRefused(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1/in", "https://10.0.0.1/in", "https://[::1]/in", "https://[fd12::1]/in",
		"https://169.254.169.254/in", "https://100.64.1.1/in", "https://[::ffff:192.168.0.1]/in", "https://0x7f.1/in",
		"https://2130706433/in", "https://017700000001/in", "https://127.0.0.1:9/{{ workorder.id }}"} {
		_, diags := parse(t, hookWith(u, ""), nil)
		if len(diags) != 1 || !strings.Contains(diags[0], `url of webhook "w" is not an allowed destination`) {
			t.Errorf("%s: %v", u, diags)
		}
	}
	for _, u := range []string{"https://example.com/in", "https://localhost/in", "https://example.com/{{ workorder.id }}/in", "https://8.8.8.8/in"} {
		mustParse(t, hookWith(u, ""), nil)
	}
	allow := "delivery {\n  allow_private_networks = true\n}\n"
	mustParse(t, allow+hookWith("https://10.0.0.1/in", ""), nil)
	// An ambiguous spelling stays refused: the sink refuses it at delivery too.
	if _, diags := parse(t, allow+hookWith("https://0x7f.1/in", ""), nil); len(diags) != 1 {
		t.Errorf("0x7f.1 with private networks allowed: %v", diags)
	}
}

func TestSigningAttributes(t *testing.T) {
	cfg := mustParse(t, hookWith("https://example.com/in", "  signature_format = \"standard-webhooks\"\n  secret_grace_period = \"2h\"\n"), nil)
	w := cfg.Webhooks[0]
	if w.SignatureFormat != SignatureStandard || w.SecretGracePeriod == nil || *w.SecretGracePeriod != 2*time.Hour {
		t.Errorf("webhook %+v", w)
	}
	if cfg := mustParse(t, hookWith("https://example.com/in", ""), nil); cfg.Webhooks[0].SignatureFormat != SignatureFN ||
		cfg.Webhooks[0].SecretGracePeriod != nil || cfg.Delivery.SecretGracePeriod != 24*time.Hour {
		t.Errorf("defaults %+v %v", cfg.Webhooks[0], cfg.Delivery.SecretGracePeriod)
	}
	_, diags := parse(t, hookWith("https://example.com/in", "  signature_format = \"svix\"\n  secret_grace_period = \"169h\"\n"), nil)
	expectDiags(t, diags,
		`t.hcl:5:3: invalid signature_format "svix" for webhook "w": valid formats: "fn", "standard-webhooks"`,
		`t.hcl:6:3: secret_grace_period 169h0m0s of webhook "w" is too long`)
	_, diags = parse(t, "delivery {\n  secret_grace_period = \"200h\"\n}\n", nil)
	expectDiags(t, diags, `t.hcl:2:3: delivery.secret_grace_period 200h0m0s is too long`)
}

func TestEncryptionKeySettings(t *testing.T) {
	cfg := mustParse(t, "storage {\n  path = \"/srv/hg/data\"\n  encryption_key = env(\"K\")\n  previous_encryption_keys = [env(\"OLD\")]\n}\n", nil)
	if cfg.Storage.KeyFile() != "/srv/hg/data.key" || len(cfg.Storage.PreviousEncryptionKeys) != 0 {
		t.Errorf("key file %q, previous %v", cfg.Storage.KeyFile(), cfg.Storage.PreviousEncryptionKeys)
	}
	if Defaults().Storage.KeyFile() != "data.key" {
		t.Errorf("default key file %q", Defaults().Storage.KeyFile())
	}
	cfg = mustParse(t, "storage {\n  encryption_key = env(\"K\")\n}\n", map[string]string{"K": key32})
	if cfg.Storage.EncryptionKey != key32 {
		t.Error("encryption_key from env")
	}
	secret := "not-a-key-" + strings.Repeat("x", 20)
	_, diags := parse(t, "storage {\n  encryption_key = env(\"K\")\n  previous_encryption_keys = [\"short\"]\n  encryption_key_file = \"data/k\"\n}\n", map[string]string{"K": secret})
	expectDiags(t, diags,
		`t.hcl:2:3: invalid storage.encryption_key`,
		`t.hcl:3:3: invalid storage.previous_encryption_keys[0]`)
	for _, d := range diags {
		if strings.Contains(d, secret) {
			t.Errorf("a diagnostic echoes the key: %s", d)
		}
	}
	_, diags = parse(t, "storage {\n  path = \"./data\"\n  encryption_key_file = \"./data/hookgate.key\"\n}\n", nil)
	expectDiags(t, diags, `t.hcl:3:3: storage.encryption_key_file is inside storage.path`)
}
