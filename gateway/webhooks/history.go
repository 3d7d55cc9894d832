package webhooks

import (
	"maps"
	"slices"
	"time"

	"github.com/hookgate/hookgate/store"
)

// History actions (DESIGN "History actions"); webhook_updated covers the
// fields the list does not name (modelProperties, isIntegrationOnly, sink).
const (
	ActionCreated       = "webhook_created"
	ActionStatusChanged = "status_changed"
	ActionURLChanged    = "url_changed"
	ActionEventsUpdated = "events_updated"
	ActionMethodChanged = "method_changed"
	ActionSecretChanged = "secret_regenerated"
	ActionHeaders       = "headers_updated"
	ActionEmailChanged  = "notification_email_changed"
	ActionTemplate      = "template_changed"
	ActionUpdated       = "webhook_updated"
	ActionDeleted       = "webhook_deleted"
)

// SystemUser is the userId of changes nobody asked for over the API:
// auto-deactivation and the HCL file.
const SystemUser = 0

// fromTo is the {from, to} pair of a changed value.
func fromTo(from, to any) map[string]any { return map[string]any{"from": from, "to": to} }

// Snapshot is a webhook's configuration for webhook_created and
// webhook_deleted. Never the secret; header names only (values are often
// credentials).
func Snapshot(w *store.Webhook) map[string]any {
	m := map[string]any{
		"url": w.URL, "method": w.Method, "status": w.Status, "events": nonNil(w.Events),
		"isIntegrationOnly": w.IsIntegrationOnly, "sink": w.Sink, "source": w.Source,
		"signatureFormat": SignatureFormatOf(w), "ordering": OrderingOf(w), "orderingOnDead": OnDeadOf(w),
	}
	if w.NotificationEmail != "" {
		m["notificationEmail"] = w.NotificationEmail
	}
	if len(w.Headers) > 0 {
		m["headers"] = headerNames(w.Headers)
	}
	if w.PayloadTemplate != "" {
		m["payloadTemplate"] = w.PayloadTemplate
	}
	if len(w.ModelProperties) > 0 {
		m["modelProperties"] = w.ModelProperties
	}
	if w.RateLimit != "" {
		m["rateLimit"] = w.RateLimit
	}
	if w.RateBurst > 0 {
		m["rateBurst"] = w.RateBurst
	}
	if w.MaxInFlight > 0 {
		m["maxInFlight"] = w.MaxInFlight
	}
	return m
}

func headerNames(h map[string]string) []string { return slices.Sorted(maps.Keys(h)) }

// Diff lists the history entries that turn old into next, one per
// kind of change, in a fixed order. User, time and reason are the caller's.
func Diff(old, next *store.Webhook) []*store.HistoryEntry {
	var out []*store.HistoryEntry
	add := func(action string, changes map[string]any) {
		out = append(out, &store.HistoryEntry{Action: action, Changes: changes})
	}
	if old.Status != next.Status {
		add(ActionStatusChanged, map[string]any{"status": fromTo(old.Status, next.Status)})
	}
	if old.URL != next.URL {
		add(ActionURLChanged, map[string]any{"url": fromTo(old.URL, next.URL)})
	}
	if old.Method != next.Method {
		add(ActionMethodChanged, map[string]any{"method": fromTo(old.Method, next.Method)})
	}
	if added, removed := setDiff(old.Events, next.Events); len(added)+len(removed) > 0 {
		add(ActionEventsUpdated, map[string]any{"events": map[string]any{"added": added, "removed": removed}})
	}
	if old.Secret != next.Secret {
		add(ActionSecretChanged, map[string]any{"secret": map[string]any{"regenerated": true}})
	}
	if h := headerChanges(old.Headers, next.Headers); h != nil {
		add(ActionHeaders, map[string]any{"headers": h})
	}
	if old.NotificationEmail != next.NotificationEmail {
		add(ActionEmailChanged, map[string]any{"notificationEmail": fromTo(nullIfEmpty(old.NotificationEmail), nullIfEmpty(next.NotificationEmail))})
	}
	if old.PayloadTemplate != next.PayloadTemplate {
		add(ActionTemplate, map[string]any{"payloadTemplate": fromTo(nullIfEmpty(old.PayloadTemplate), nullIfEmpty(next.PayloadTemplate))})
	}
	if o := orderingChanges(old, next); o != nil {
		add(ActionOrderingChanged, o)
	}
	if other := otherChanges(old, next); len(other) > 0 {
		add(ActionUpdated, other)
	}
	return out
}

// otherChanges covers the fields without an action of their own.
func otherChanges(old, next *store.Webhook) map[string]any {
	m := map[string]any{}
	if !slices.Equal(old.ModelProperties, next.ModelProperties) {
		m["modelProperties"] = fromTo(nonNil(old.ModelProperties), nonNil(next.ModelProperties))
	}
	if old.IsIntegrationOnly != next.IsIntegrationOnly {
		m["isIntegrationOnly"] = fromTo(old.IsIntegrationOnly, next.IsIntegrationOnly)
	}
	if old.Sink != next.Sink {
		m["sink"] = fromTo(old.Sink, next.Sink)
	}
	if a, b := SignatureFormatOf(old), SignatureFormatOf(next); a != b {
		m["signatureFormat"] = fromTo(a, b)
	}
	if old.RateLimit != next.RateLimit {
		m["rateLimit"] = fromTo(old.RateLimit, next.RateLimit)
	}
	if old.RateBurst != next.RateBurst {
		m["rateBurst"] = fromTo(old.RateBurst, next.RateBurst)
	}
	if old.MaxInFlight != next.MaxInFlight {
		m["maxInFlight"] = fromTo(old.MaxInFlight, next.MaxInFlight)
	}
	if old.UserID != next.UserID {
		m["userId"] = fromTo(old.UserID, next.UserID)
	}
	if old.CompanyID != next.CompanyID {
		m["companyId"] = fromTo(old.CompanyID, next.CompanyID)
	}
	return m
}

// setDiff returns what next adds to and removes from old, in their orders.
func setDiff(old, next []string) (added, removed []string) {
	added, removed = []string{}, []string{}
	for _, e := range next {
		if !slices.Contains(old, e) {
			added = append(added, e)
		}
	}
	for _, e := range old {
		if !slices.Contains(next, e) {
			removed = append(removed, e)
		}
	}
	return added, removed
}

// headerChanges names the headers added, removed and changed; nil when none.
func headerChanges(old, next map[string]string) map[string]any {
	added, removed := setDiff(headerNames(old), headerNames(next))
	changed := []string{}
	for _, k := range headerNames(next) {
		if v, ok := old[k]; ok && v != next[k] {
			changed = append(changed, k)
		}
	}
	if len(added)+len(removed)+len(changed) == 0 {
		return nil
	}
	return map[string]any{"added": added, "removed": removed, "changed": changed}
}

// Stamp fills in who, when and why for every entry.
func Stamp(hist []*store.HistoryEntry, w *store.Webhook, user int64, at time.Time, reason string) []*store.HistoryEntry {
	for _, h := range hist {
		h.WebhookID, h.CompanyID, h.UserID, h.CreatedAt, h.Reason = w.WebhookID, w.CompanyID, user, at, reason
	}
	return hist
}

// nonNil shows a nil list as [] in a history entry, as the API shows it.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nullIfEmpty shows an empty string as null in a history entry.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
