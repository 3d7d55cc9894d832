package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// templatesPage is the JSONata editor: the payload and URL templates
// beside a sample envelope, with the result the preview endpoint gives.
func (d *Dashboard) templatesPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	wh, logs, err := d.loadWebhookWithLogs(r, r.PathValue("id"), 20)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	sample, chosen := string(d.opts.SampleEnvelope), r.URL.Query().Get("sample")
	if chosen != "" {
		var det struct {
			OriginalPayload *string `json:"originalPayload"`
		}
		if _, err := s.api.get(r.Context(), "/api/v1/webhooks/delivery-logs/"+url.PathEscape(chosen), nil, &det); err == nil && det.OriginalPayload != nil {
			sample = *det.OriginalPayload
		}
	}
	data := map[string]any{"Webhook": wh, "Logs": logs, "Sample": prettyJSON(sample), "Chosen": chosen}
	d.render(w, r, http.StatusOK, "templates", "Templates", s, data)
}

// saveTemplates stores the payload template and the URL (its template).
func (d *Dashboard) saveTemplates(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	body := map[string]any{"payloadTemplate": r.PostFormValue("payloadTemplate"), "url": r.PostFormValue("urlTemplate")}
	back := d.base + "/webhooks/" + url.PathEscape(id) + "/templates"
	if _, err := s.api.call(r.Context(), http.MethodPut, "/api/v1/webhooks/"+url.PathEscape(id), nil, body); err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, back, "Templates not saved: "+err.Error())
		return
	}
	d.redirect(w, r, back, "Templates saved.")
}

// preview relays the editor's script to POST /api/v1/transforms/preview
// (the token is HttpOnly, so the script cannot call the API itself).
func (d *Dashboard) preview(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PayloadTemplate string          `json:"payloadTemplate"`
		URLTemplate     string          `json:"urlTemplate"`
		Payload         json.RawMessage `json:"payload"`
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	if err := json.Unmarshal(raw, &in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "the sample is not valid JSON: " + err.Error()})
		return
	}
	if len(in.Payload) > 0 && !json.Valid(in.Payload) {
		in.Payload = nil
	}
	env, err := sessionOf(r).api.call(r.Context(), http.MethodPost, "/api/v1/transforms/preview", nil, in)
	if d.signedOut(w, r, err) {
		return
	}
	out := map[string]any{}
	if ae, ok := err.(*APIError); ok {
		w.WriteHeader(http.StatusUnprocessableEntity)
		out["error"], out["template"], out["position"] = ae.Error(), ae.Item.Template, ae.Item.Position
	} else if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		out["error"] = err.Error()
	} else {
		var res struct {
			Body json.RawMessage `json:"body"`
			URL  string          `json:"url"`
		}
		_ = json.Unmarshal(env.Result, &res)
		out["body"], out["url"] = prettyJSON(string(res.Body)), res.URL
	}
	_ = json.NewEncoder(w).Encode(out)
}
