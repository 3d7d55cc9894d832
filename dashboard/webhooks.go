package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// webhook is the API's webhook object.
type webhook struct {
	ID                int64    `json:"id"`
	WebhookID         string   `json:"webhookId"`
	UserID            int64    `json:"userId"`
	Events            []string `json:"events"`
	URL               string   `json:"url"`
	Method            string   `json:"method"`
	Status            string   `json:"status"`
	Secret            string   `json:"secret"`
	NotificationEmail string   `json:"notificationEmail"` // "" when unset
	ModelProperties   []string `json:"modelProperties"`
	WebhookAttribute  *struct {
		Header map[string]string `json:"header"`
	} `json:"webhookAttribute"`
	PayloadTemplate *string `json:"payloadTemplate"`
	Sink            string  `json:"sink"`
	RateLimit       *string `json:"rateLimit"`      // null: no limit
	RateBurst       *int    `json:"rateBurst"`      // null: the gateway's default
	MaxInFlight     *int    `json:"maxInFlight"`    // null: the gateway's default
	Ordering        string  `json:"ordering"`       // none | work_order
	OrderingOnDead  string  `json:"orderingOnDead"` // continue | hold
	Source          string  `json:"source"`
	CreatedAt       string  `json:"createdAt"`
	UpdatedAt       string  `json:"updatedAt"`
}

// Email is the notification address or "".
func (w *webhook) Email() string { return w.NotificationEmail }

// Rate is the webhook's rate limit or "".
func (w *webhook) Rate() string {
	if w.RateLimit == nil {
		return ""
	}
	return *w.RateLimit
}

// Pace describes the webhook's rate limit for the details page.
func (w *webhook) Pace() string {
	if w.Rate() != "" && w.RateBurst != nil {
		return w.Rate() + ", burst " + strconv.Itoa(*w.RateBurst)
	}
	return w.Rate()
}

// intText is n as form text, "" for null.
func intText(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// Template is the payload template or "".
func (w *webhook) Template() string {
	if w.PayloadTemplate == nil {
		return ""
	}
	return *w.PayloadTemplate
}

// Headers are the custom headers, sorted by name for display.
func (w *webhook) Headers() [][2]string {
	if w.WebhookAttribute == nil {
		return nil
	}
	var out [][2]string
	for k, v := range w.WebhookAttribute.Header {
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(strings.ToLower(a[0]), strings.ToLower(b[0])) })
	return out
}

// ReadOnly says the API will refuse edits: archived, or defined in HCL.
func (w *webhook) ReadOnly() bool { return w.Status == "archived" || w.Source == "config" }

// event is one entry of the events catalog.
type event struct {
	Name, Label, Description, Model string
}

// eventGroup is the catalog's events of one model, for the picker.
type eventGroup struct {
	Model  string
	Events []event
}

// catalog returns the events grouped by model. The catalog is fixed for a
// build, so after the first answer it is kept, saving an API call (and a
// rate-limit token) on every list and form.
func (d *Dashboard) catalog(ctx context.Context, api *apiClient) ([]eventGroup, []string, error) {
	d.catMu.Lock()
	evs := d.catEvents
	d.catMu.Unlock()
	if evs == nil {
		if _, err := api.get(ctx, "/api/v1/webhooks/events", nil, &evs); err != nil {
			return nil, nil, err
		}
		d.catMu.Lock()
		d.catEvents = evs
		d.catMu.Unlock()
	}
	var groups []eventGroup
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
		if len(groups) == 0 || groups[len(groups)-1].Model != e.Model {
			groups = append(groups, eventGroup{Model: e.Model})
		}
		groups[len(groups)-1].Events = append(groups[len(groups)-1].Events, e)
	}
	return groups, names, nil
}

// webhooksPage lists webhooks with search, status filter, sort by created
// date and paging, all passed through to the API.
func (d *Dashboard) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	q := r.URL.Query()
	dir := strings.ToUpper(q.Get("dir"))
	if dir != "ASC" {
		dir = "DESC"
	}
	apiQ := url.Values{"sortBy": {"createdAt"}, "sortDirection": {dir}}
	paging(q, apiQ)
	for _, k := range []string{"search", "status"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			apiQ.Set(k, v)
		}
	}
	var list []webhook
	env, err := s.api.get(r.Context(), "/api/v1/webhooks", apiQ, &list)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	groups, _, err := d.catalog(r.Context(), s.api)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	form := webhookForm{Method: "post", Status: "active", Sink: "http"}
	if s.CanWrite() { // the create dialog
		if form.Sinks, err = sinkChoices(r.Context(), s.api, form.Sink); err != nil {
			d.fail(w, r, err)
			return
		}
	}
	data := map[string]any{
		"Webhooks": list, "Query": q, "Search": q.Get("search"), "Status": q.Get("status"), "Dir": dir,
		"Pager":  pagerOf(env, len(list)),
		"Groups": groups, "NewSecret": uuid.NewString(), "Form": form,
		"Open": q.Get("new") != "",
	}
	d.render(w, r, http.StatusOK, "webhooks", "Webhooks", s, data)
}

// webhookForm is what the create and edit forms post.
type webhookForm struct {
	URL, Method, Status, Email, Secret, Sink string
	// RateLimit, RateBurst and MaxInFlight as typed; "" is the default.
	RateLimit, RateBurst, MaxInFlight string
	Ordering, OrderingOnDead          string // the edit form's; "" leaves them as they are
	Events                            []string
	AllEvents                         bool
	Headers                           [][2]string
	Removed                           []string
	Sinks                             []sinkChoice // the options of the sink field (sinks.go)
}

func readWebhookForm(r *http.Request, catalog []string) webhookForm {
	_ = r.ParseForm()
	f := webhookForm{
		URL: strings.TrimSpace(r.PostFormValue("url")), Method: r.PostFormValue("method"),
		Email: strings.TrimSpace(r.PostFormValue("notification_email")), Secret: strings.TrimSpace(r.PostFormValue("secret")),
		Sink: strings.TrimSpace(r.PostFormValue("sink")), Events: r.PostForm["events"], AllEvents: r.PostFormValue("all_events") != "",
		Status: r.PostFormValue("status"), Removed: r.PostForm["header_remove"],
		RateLimit: strings.TrimSpace(r.PostFormValue("rate_limit")), RateBurst: strings.TrimSpace(r.PostFormValue("rate_burst")),
		MaxInFlight: strings.TrimSpace(r.PostFormValue("max_in_flight")),
		Ordering:    r.PostFormValue("ordering"), OrderingOnDead: r.PostFormValue("ordering_on_dead"),
	}
	if f.Status == "on" { // the create dialog's switch
		f.Status = "active"
	} else if f.Status == "" {
		f.Status = "inactive"
	}
	if f.AllEvents {
		f.Events = catalog
	}
	names, values := r.PostForm["header_name"], r.PostForm["header_value"]
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || i >= len(values) || slices.Contains(f.Removed, n) {
			continue
		}
		f.Headers = append(f.Headers, [2]string{n, values[i]})
	}
	return f
}

// body is the API request for the form; on update the removed headers are
// sent as null, which the API reads as "remove".
func (f webhookForm) body(create bool) map[string]any {
	b := map[string]any{"url": f.URL, "method": f.Method, "status": f.Status, "events": nonNilStrings(f.Events)}
	if f.Email != "" || !create {
		b["notificationEmail"] = f.Email
	}
	if f.Secret != "" {
		b["secret"] = f.Secret
	}
	if f.Sink != "" {
		b["sink"] = f.Sink
	}
	for name, v := range map[string]string{"rateLimit": f.RateLimit, "rateBurst": f.RateBurst, "maxInFlight": f.MaxInFlight} {
		if v != "" || !create { // empty on update: back to the default
			b[name] = formValue(name, v)
		}
	}
	if f.Ordering != "" {
		b["ordering"] = f.Ordering
	}
	if f.OrderingOnDead != "" {
		b["orderingOnDead"] = f.OrderingOnDead
	}
	h := map[string]any{}
	for _, kv := range f.Headers {
		h[kv[0]] = kv[1]
	}
	for _, n := range f.Removed {
		h[n] = nil
	}
	if len(h) > 0 {
		b["webhookAttribute"] = map[string]any{"header": h}
	}
	return b
}

// formValue is a typed rate field for the API: null when empty, a number
// for the counts (as typed when it is not one, for the API to word the
// refusal).
func formValue(name, v string) any {
	if v == "" {
		return nil
	}
	if name != "rateLimit" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return v
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// createWebhook posts the Create New dialog. On success the secret is shown
// once on the answer page; on refusal the dialog reopens with the API's
// message and what was typed (except nothing is lost but the page).
func (d *Dashboard) createWebhook(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	groups, names, err := d.catalog(r.Context(), s.api)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := readWebhookForm(r, names)
	var created webhook
	env, err := s.api.call(r.Context(), http.MethodPost, "/api/v1/webhooks", nil, f.body(true))
	if err == nil {
		err = jsonInto(env.Result, &created)
	}
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		var list []webhook
		lenv, lerr := s.api.get(r.Context(), "/api/v1/webhooks", url.Values{"sortBy": {"createdAt"}, "sortDirection": {"DESC"}}, &list)
		if lerr == nil {
			f.Sinks, lerr = sinkChoices(r.Context(), s.api, f.Sink)
		}
		if lerr != nil {
			d.fail(w, r, lerr)
			return
		}
		data := map[string]any{"Webhooks": list, "Query": url.Values{}, "Dir": "DESC", "Groups": groups,
			"Pager": pagerOf(lenv, len(list)), "NewSecret": f.Secret, "Form": f,
			"Open": true, "FormError": err.Error()}
		d.render(w, r, http.StatusUnprocessableEntity, "webhooks", "Webhooks", s, data)
		return
	}
	d.render(w, r, http.StatusOK, "secret", "Webhook created", s, map[string]any{"Webhook": created, "Created": true})
}

// loadWebhook gets one webhook with its headers (values for writers).
func (d *Dashboard) loadWebhook(r *http.Request, id string) (*webhook, error) {
	var wh webhook
	_, err := sessionOf(r).api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(id), url.Values{"webhookAttribute": {"header"}}, &wh)
	return &wh, err
}

// loadWebhookWithLogs reads a webhook and its n most recent delivery logs,
// what the details and template pages open with.
func (d *Dashboard) loadWebhookWithLogs(r *http.Request, id string, n int) (*webhook, []logRow, error) {
	wh, err := d.loadWebhook(r, id)
	if err != nil {
		return nil, nil, err
	}
	var logs []logRow
	q := url.Values{"webhookId": {wh.WebhookID}, "perPage": {strconv.Itoa(n)}}
	if _, err := sessionOf(r).api.get(r.Context(), "/api/v1/webhooks/delivery-logs", q, &logs); err != nil {
		return nil, nil, err
	}
	return wh, logs, nil
}

// webhookPage is the details page: configuration, actions, recent
// deliveries and where a config webhook is defined.
func (d *Dashboard) webhookPage(w http.ResponseWriter, r *http.Request) {
	wh, logs, err := d.loadWebhookWithLogs(r, r.PathValue("id"), 10)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data := map[string]any{"Webhook": wh, "Logs": logs, "SourceRef": d.sourceRef(r, wh), "Charts": d.webhookCharts(r, wh)}
	if wh.Ordering == "work_order" {
		var held struct {
			HeldLanes []heldLane `json:"heldLanes"`
		}
		if _, err := sessionOf(r).api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(wh.WebhookID)+"/lanes", nil, &held); err != nil {
			d.fail(w, r, err)
			return
		}
		data["HeldLanes"] = held.HeldLanes
	}
	d.render(w, r, http.StatusOK, "webhook", "Webhook "+shortID(wh.WebhookID), sessionOf(r), data)
}

// sourceRef finds the HCL file and block of a config webhook. The API does
// not return it on the object; its history records it as the reason of the
// system's create or reload entries ("defined in gateway.hcl:14 webhook
// \"erp\""), so the dashboard reads it there.
func (d *Dashboard) sourceRef(r *http.Request, wh *webhook) string {
	if wh.Source != "config" {
		return ""
	}
	var hist []historyEntry
	q := url.Values{"userId": {"0"}, "perPage": {"25"}}
	if _, err := sessionOf(r).api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(wh.WebhookID)+"/history", q, &hist); err != nil {
		return ""
	}
	for _, h := range hist {
		if h.Reason == nil {
			continue
		}
		for _, p := range []string{"reloaded from ", "defined in "} {
			if i := strings.Index(*h.Reason, p); i >= 0 {
				return (*h.Reason)[i+len(p):]
			}
		}
	}
	return "the gateway's HCL file"
}
