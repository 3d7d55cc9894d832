package benchrun

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// Prefill writes events × len(hooks) pending deliveries straight into the
// Badger data folder at path while no gateway runs on it, batch events per
// Ingest call (one call must fit one transaction). hooks are names of HCL
// webhook blocks; at gives event k's creation time, its deliveries' due
// time and how many attempts they have already made (each failed 503).
// Envelopes are size bytes (Envelope).
func Prefill(ctx context.Context, path string, hooks []string, events, batch, size int, at func(k int) (created, due time.Time, attempts int)) error {
	st, err := badger.Open(badger.Options{Path: path})
	if err != nil {
		return err
	}
	defer st.Close()
	ids := make([]string, len(hooks))
	for i, h := range hooks {
		ids[i] = webhooks.ConfigWebhookID(h)
	}
	for e := 0; e < events; e += batch {
		var items []store.IngestItem
		for k := e; k < e+batch && k < events; k++ {
			created, due, attempts := at(k)
			ev := &store.Event{ID: store.NewID(), TraceID: uuid.NewString(), Name: "workorder.created",
				CompanyID: 100, WorkOrderID: int64(k), Payload: Envelope(k, size), ReceivedAt: created}
			it := store.IngestItem{Event: ev}
			for _, w := range ids {
				d := &store.Delivery{ID: store.NewDeliveryID(1, due), EventID: ev.ID, WebhookID: w,
					CompanyID: 100, EventName: ev.Name, WorkOrderID: ev.WorkOrderID, Priority: 1, Attempts: attempts,
					State: store.DeliveryPending, DueAt: due, CreatedAt: created, UpdatedAt: created}
				if attempts > 0 {
					d.LastStatus, d.LastError = 503, "503 Service Unavailable"
				}
				it.Deliveries = append(it.Deliveries, d)
			}
			items = append(items, it)
		}
		if _, err := st.Ingest(ctx, nil, items); err != nil {
			return err
		}
	}
	return nil
}
