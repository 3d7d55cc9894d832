package transforms

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestFilterModelProperties(t *testing.T) {
	seed := seedEnvelope(t)
	if out, err := FilterModelProperties(seed, nil); err != nil || string(out) != string(seed) {
		t.Fatal("empty props changed the envelope")
	}
	out, err := FilterModelProperties(seed, []string{"id", "title", "status", "not_there"})
	if err != nil {
		t.Fatal(err)
	}
	var got, orig map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", out, err)
	}
	_ = json.Unmarshal(seed, &orig)
	wo := got["workorder"].(map[string]any)
	if len(wo) != 3 || wo["id"] != 12345.0 || wo["title"] != "Router Installation - Site 42" || wo["status"].(map[string]any)["name"] != "Published" {
		t.Fatalf("workorder = %v", wo)
	}
	for _, k := range []string{"event", "timestamp", "triggered_by_user"} {
		a, _ := json.Marshal(got[k])
		b, _ := json.Marshal(orig[k])
		if string(a) != string(b) {
			t.Errorf("%s changed: %s vs %s", k, a, b)
		}
	}
	// Key order of the workorder follows the envelope, not props.
	i, j, k := bytes.Index(out, []byte(`"id"`)), bytes.Index(out, []byte(`"title"`)), bytes.Index(out, []byte(`"status":`))
	if !(i < j && j < k) {
		t.Fatalf("workorder keys reordered: %s", out)
	}
	// No workorder object: unchanged.
	in := []byte(`{"event":{"name":"x"},"workorder":null}`)
	if out, err := FilterModelProperties(in, []string{"id"}); err != nil || string(out) != string(in) {
		t.Fatalf("%s %v", out, err)
	}
	if _, err := FilterModelProperties([]byte(`[1]`), []string{"id"}); err == nil {
		t.Fatal("non-object envelope accepted")
	}
	if _, err := FilterModelProperties([]byte(`{"workorder":{"id":1}} x`), []string{"id"}); err == nil {
		t.Fatal("trailing garbage accepted")
	}
}
