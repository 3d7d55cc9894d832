// Package events holds the catalog of the 33 Field Nation v3 webhook events
// and the delivery priority of each. It imports nothing of ours so that config,
// gateway and the API can all share one list.
package events

import "strings"

// Event describes one entry of the catalog as GET /api/v1/webhooks/events shows it.
type Event struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Model       string `json:"model"`
}

// Priority orders deliveries in the queue (spec notes §2.5).
type Priority int

// Priorities, highest first. The numeric value is used in storage keys.
const (
	PriorityHigh   Priority = 0
	PriorityNormal Priority = 1
	PriorityLow    Priority = 2
)

// Priorities lists every priority, highest first.
var Priorities = []Priority{PriorityHigh, PriorityNormal, PriorityLow}

// String returns "high", "normal" or "low".
func (p Priority) String() string {
	switch p {
	case PriorityHigh:
		return "high"
	case PriorityLow:
		return "low"
	default:
		return "normal"
	}
}

// names in the order of the OpenAPI enum (spec notes §1.1).
var names = []string{
	"workorder.created",
	"workorder.routed",
	"workorder.task_completed",
	"workorder.task_incomplete",
	"workorder.provider_upload",
	"workorder.message_posted",
	"workorder.requested",
	"workorder.custom_field_value_updated",
	"workorder.declined",
	"workorder.undeclined",
	"workorder.schedule_updated",
	"workorder.tag_added",
	"workorder.tag_removed",
	"workorder.status.draft",
	"workorder.status.routed",
	"workorder.status.published",
	"workorder.status.confirmed",
	"workorder.status.assigned",
	"workorder.status.assigned_cancelled",
	"workorder.status.at_risk",
	"workorder.status.delayed",
	"workorder.status.on_my_way",
	"workorder.status.checked_in",
	"workorder.status.checked_out",
	"workorder.problem_reported",
	"workorder.problem_resolved",
	"workorder.status.work_done",
	"workorder.status.approved",
	"workorder.status.paid",
	"workorder.status.cancelled",
	"workorder.status.deleted",
	"workorder.status.postponed",
	"workorder.part_updated",
}

// descriptions that do not follow the "status changes to" pattern (spec notes §1.4).
var descriptions = map[string]string{
	"workorder.created":                    "Triggered when a work order is created.",
	"workorder.routed":                     "Triggered when a work order is routed to a provider.",
	"workorder.requested":                  "Triggered when a work order is requested.",
	"workorder.declined":                   "Triggered when a work order is declined by a provider.",
	"workorder.undeclined":                 "Triggered when a work order is undeclined by a provider.",
	"workorder.task_completed":             "Triggered when a task on a work order is completed.",
	"workorder.task_incomplete":            "Triggered when a task on a work order is marked as incomplete.",
	"workorder.provider_upload":            "Triggered when a provider uploads a document to a work order.",
	"workorder.message_posted":             "Triggered when a message is posted or replied to on a work order.",
	"workorder.custom_field_value_updated": "Triggered when a custom field value is updated on a work order.",
	"workorder.schedule_updated":           "Triggered when a schedule is updated on a work order.",
	"workorder.tag_added":                  "Triggered when a tag is added to a work order.",
	"workorder.tag_removed":                "Triggered when a tag is removed from a work order.",
	"workorder.problem_reported":           "Triggered when a problem is reported or reopened on a work order.",
	"workorder.problem_resolved":           "Triggered when a problem is resolved on a work order.",
	"workorder.part_updated":               "Triggered when parts/materials on a work order are updated.",
}

var (
	catalog []Event
	byName  = map[string]Event{}
)

func init() {
	for _, n := range names {
		words := strings.ReplaceAll(strings.TrimPrefix(n, "workorder."), ".", " ")
		words = strings.ReplaceAll(words, "_", " ")
		e := Event{Name: n, Label: "Work Order " + words, Model: "WorkOrder"}
		if d, ok := descriptions[n]; ok {
			e.Description = d
		} else {
			status := strings.ReplaceAll(strings.TrimPrefix(n, "workorder.status."), "_", " ")
			e.Description = "Triggered when a work order status changes to " + status + "."
		}
		catalog = append(catalog, e)
		byName[n] = e
	}
}

// All returns the catalog in the OpenAPI enum order. The slice is a copy.
func All() []Event { return append([]Event(nil), catalog...) }

// Names returns the 33 event names in catalog order.
func Names() []string { return append([]string(nil), names...) }

// Lookup returns the catalog entry for name.
func Lookup(name string) (Event, bool) {
	e, ok := byName[name]
	return e, ok
}

// Valid reports whether name is one of the 33 events.
func Valid(name string) bool {
	_, ok := byName[name]
	return ok
}

// PriorityOf returns the queue priority of an event: payment and approval are
// high, messages and uploads low, everything else normal (spec notes §2.5).
func PriorityOf(name string) Priority {
	switch name {
	case "workorder.status.approved", "workorder.status.paid":
		return PriorityHigh
	case "workorder.message_posted", "workorder.provider_upload":
		return PriorityLow
	default:
		return PriorityNormal
	}
}
