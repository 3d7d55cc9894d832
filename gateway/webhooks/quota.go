package webhooks

import (
	"context"
	"fmt"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// CheckQuota refuses a new webhook of a company that has its limit of
// webhooks already (lim, its Webhooks quota): a *QuotaError. Webhook
// blocks count but are never refused (the operator's own config); archived
// webhooks count too, as they are kept.
// The caller holds the lock every webhook change holds, so two creates
// cannot both pass at the limit.
func (s *Service) CheckQuota(ctx context.Context, company int64, lim config.Limit) error {
	if lim.Value <= 0 {
		return nil
	}
	ws, err := s.store.ListWebhooks(ctx, store.WebhookFilter{CompanyID: company})
	if err != nil {
		return err
	}
	if int64(len(ws)) < lim.Value {
		return nil
	}
	return &QuotaError{Msg: fmt.Sprintf("company %d has %d webhooks (archived ones included), the limit of %s (%d): "+
		"delete one before creating another, or ask the operator to raise the limit", company, len(ws), lim.Setting, lim.Value)}
}
