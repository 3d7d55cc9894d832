package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
)

// editPage shows the edit form, or why the webhook cannot be edited.
func (d *Dashboard) editPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	wh, err := d.loadWebhook(r, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	groups, _, err := d.catalog(r.Context(), s.api)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := webhookForm{URL: wh.URL, Method: wh.Method, Status: wh.Status, Email: wh.Email(), Sink: wh.Sink, Events: wh.Events, Headers: wh.Headers(),
		RateLimit: wh.Rate(), RateBurst: intText(wh.RateBurst), MaxInFlight: intText(wh.MaxInFlight),
		Ordering: wh.Ordering, OrderingOnDead: wh.OrderingOnDead}
	if f.Sinks, err = sinkChoices(r.Context(), s.api, f.Sink); err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "edit", "Edit webhook", s, map[string]any{"Webhook": wh, "Form": f, "Groups": groups, "SourceRef": d.sourceRef(r, wh)})
}

// updateWebhook PUTs the edit form; the API's refusal (archived, config
// managed, invalid) is shown above the form as it was typed.
func (d *Dashboard) updateWebhook(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	groups, names, err := d.catalog(r.Context(), s.api)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := readWebhookForm(r, names)
	body := f.body(false)
	if body["status"] == "inactive" && r.PostFormValue("status") == "" {
		delete(body, "status") // the edit form has no status switch: keep it
	}
	_, err = s.api.call(r.Context(), http.MethodPut, "/api/v1/webhooks/"+url.PathEscape(id), nil, body)
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		wh, lerr := d.loadWebhook(r, id)
		if lerr == nil {
			f.Sinks, lerr = sinkChoices(r.Context(), s.api, f.Sink)
		}
		if lerr != nil {
			d.fail(w, r, lerr)
			return
		}
		d.render(w, r, http.StatusUnprocessableEntity, "edit", "Edit webhook", s,
			map[string]any{"Webhook": wh, "Form": f, "Groups": groups, "FormError": err.Error(), "SourceRef": d.sourceRef(r, wh)})
		return
	}
	d.redirect(w, r, d.base+"/webhooks/"+url.PathEscape(id), "Webhook saved.")
}

// setStatus activates, pauses (inactive) or archives a webhook.
func (d *Dashboard) setStatus(w http.ResponseWriter, r *http.Request) {
	id, status := r.PathValue("id"), r.PostFormValue("status")
	_, err := sessionOf(r).api.call(r.Context(), http.MethodPut, "/api/v1/webhooks/"+url.PathEscape(id), nil, map[string]any{"status": status})
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, d.base+"/webhooks/"+url.PathEscape(id), "Not changed: "+err.Error())
		return
	}
	d.redirect(w, r, d.base+"/webhooks/"+url.PathEscape(id), "Status set to "+status+".")
}

// regenerateSecret sets a new random secret and shows it once.
func (d *Dashboard) regenerateSecret(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	env, err := s.api.call(r.Context(), http.MethodPut, "/api/v1/webhooks/"+url.PathEscape(id), nil, map[string]any{"secret": uuid.NewString()})
	var wh webhook
	if err == nil {
		err = jsonInto(env.Result, &wh)
	}
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, d.base+"/webhooks/"+url.PathEscape(id), "Secret not changed: "+err.Error())
		return
	}
	d.render(w, r, http.StatusOK, "secret", "New secret", s, map[string]any{"Webhook": wh})
}

// showSecret shows the webhook's current secret to a writer: the way to
// read one generated for a webhook declared in HCL, whose receiver must
// verify signatures. A POST (with the CSRF token), so the secret is never
// in a URL, a history entry or a cache.
func (d *Dashboard) showSecret(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	q := url.Values{"fields": {"webhookId,url,secret"}}
	var wh webhook
	_, err := s.api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(id), q, &wh)
	if err == nil && wh.Secret == "" {
		err = errors.New("this session may not read secrets (it needs the webhooks:write scope)")
	}
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, d.base+"/webhooks/"+url.PathEscape(id), "Secret not shown: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	d.render(w, r, http.StatusOK, "secret", "Webhook secret", s, map[string]any{"Webhook": wh, "Shown": true})
}

// recoverWebhook re-queues the webhook's dead letters since a time.
func (d *Dashboard) recoverWebhook(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	since, err := parseLocalTime(r.PostFormValue("since"))
	back := d.base + "/webhooks/" + url.PathEscape(id)
	if err != nil {
		d.redirect(w, r, back, "Recover: give a date and time (UTC) to recover from.")
		return
	}
	env, err := s.api.call(r.Context(), http.MethodPost, "/api/v1/webhooks/"+url.PathEscape(id)+"/recover", nil, map[string]any{"since": since})
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, back, "Recover refused: "+err.Error())
		return
	}
	var res struct {
		Requeued int `json:"requeued"`
	}
	_ = jsonInto(env.Result, &res)
	d.redirect(w, r, back, strconv.Itoa(res.Requeued)+" dead-lettered deliveries queued again.")
}

// heldLane is one lane of GET /api/v1/webhooks/{id}/lanes.
type heldLane struct {
	WorkOrderID  int64  `json:"workOrderId"`
	DeliveryUUID string `json:"deliveryUuid"`
	Sequence     int64  `json:"sequence"`
	DeadReason   string `json:"deadReason"`
	DeadAt       string `json:"deadAt"`
	Waiting      int    `json:"waiting"`
}

// releaseLane lets a held lane of an ordered webhook go on.
func (d *Dashboard) releaseLane(w http.ResponseWriter, r *http.Request) {
	id, wo := r.PathValue("id"), r.PathValue("wo")
	back := d.base + "/webhooks/" + url.PathEscape(id)
	_, err := sessionOf(r).api.call(r.Context(), http.MethodPost,
		"/api/v1/webhooks/"+url.PathEscape(id)+"/lanes/"+url.PathEscape(wo)+"/release", nil, nil)
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, back, "Release refused: "+err.Error())
		return
	}
	d.redirect(w, r, back, "Work order "+wo+" goes on: its later deliveries are sent.")
}

// sendTest queues the API's sample event for this webhook only.
func (d *Dashboard) sendTest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := d.base + "/webhooks/" + url.PathEscape(id)
	env, err := sessionOf(r).api.call(r.Context(), http.MethodPost, "/api/v1/webhooks/"+url.PathEscape(id)+"/test", nil, map[string]any{})
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, back, "Test not sent: "+err.Error())
		return
	}
	var res struct {
		JobID     string `json:"job_id"`
		EventName string `json:"eventName"`
	}
	_ = jsonInto(env.Result, &res)
	d.redirect(w, r, back, "Test event "+res.EventName+" queued as "+res.JobID+"; see Recent deliveries.")
}
