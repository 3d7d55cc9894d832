package gateway

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/store"
)

// quotas enforces each company's limits (the quotas block and company
// blocks of the config): how many webhooks it has, how many bytes of its
// events are stored, and how fast it publishes. Every refusal names the
// limit, the setting it comes from and its value.
type quotas struct {
	cfg   *config.Config
	clock Clock

	mu sync.Mutex
	// publish holds a token bucket per company that has published (the
	// rates of companies differ). On a store with shared buckets
	// (PostgreSQL) the buckets are the store's, so the rate holds across
	// replicas, and these are the fall-back (api/ratelimit_shared.go).
	publish map[int64]*api.RateLimiter
	stored  map[int64]*storedUsage
}

// storedUsage is a company's stored event bytes as last read from the
// store, plus what was accepted here since.
type storedUsage struct {
	bytes, added int64
	read         time.Time // gateway clock
}

// storedUsageTTL is how long a company's stored bytes read from the store
// are used (plus the publishes accepted here since) before being read
// again: one read per company and second instead of one per publish.
// Between reads, other replicas' publishes and the retention sweep are
// not seen, so the limit may be passed by a second's worth of publishes.
const storedUsageTTL = time.Second

func newQuotas(cfg *config.Config, clock Clock) *quotas {
	return &quotas{cfg: cfg, clock: clock, publish: map[int64]*api.RateLimiter{}, stored: map[int64]*storedUsage{}}
}

// publishQuota is ingest's Quota hook: the gateway's per-company limits.
type publishQuota struct{ g *Gateway }

// CheckPublish refuses a publish of size bytes past the company's publish
// rate (429 with Retry-After) or its stored bytes (507): an
// *ingest.QuotaError.
func (pq publishQuota) CheckPublish(ctx context.Context, company int64, size int) error {
	g := pq.g
	q := g.quota
	lims := q.cfg.QuotasOf(company)
	if r := q.publishLimiter(company, lims); r != nil {
		d := r.Decide(ctx, api.SharedBuckets(g.store), g.log, "publish:"+strconv.FormatInt(company, 10))
		if !d.Allowed {
			wait := int64(math.Ceil(d.RetryAfter.Seconds()))
			return &ingest.QuotaError{Rate: true, RetryAfter: time.Duration(wait) * time.Second, Msg: fmt.Sprintf("company %d publishes faster than %s (%d events per second, bursts of %d, %s); retry in %d s",
				company, lims.PublishRate.Setting, lims.PublishRate.Value, lims.PublishBurst.Value, lims.PublishBurst.Setting, wait)}
		}
	}
	lim := lims.StoredBytes
	uc, ok := g.store.(store.UsageCounter)
	if lim.Value <= 0 || !ok {
		return nil
	}
	used, err := q.storedBytes(ctx, uc, company)
	if err != nil {
		return err
	}
	if used+int64(size) <= lim.Value {
		return nil
	}
	return &ingest.QuotaError{Msg: fmt.Sprintf("company %d has %d bytes of events stored; this event (%d bytes) would pass %s (%d). "+
		"Events are deleted storage.log_retention (%s) after their deliveries finish", company, used, size, lim.Setting, lim.Value, q.cfg.Storage.LogRetention)}
}

// Accepted counts an event just stored for the company.
func (pq publishQuota) Accepted(company int64, size int) { pq.g.quota.accepted(company, size) }

// publishLimiter returns the company's publish bucket, nil when its rate
// is unlimited.
func (q *quotas) publishLimiter(company int64, lims config.CompanyQuotas) *api.RateLimiter {
	if lims.PublishRate.Value <= 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.publish[company]
	if r == nil {
		r = api.NewRateLimiter(int(lims.PublishRate.Value*60), int(lims.PublishBurst.Value), q.clock)
		q.publish[company] = r
	}
	return r
}

// storedBytes returns the company's stored event bytes: the store's count,
// read at most every storedUsageTTL, plus what was accepted here since.
func (q *quotas) storedBytes(ctx context.Context, uc store.UsageCounter, company int64) (int64, error) {
	q.mu.Lock()
	u := q.stored[company]
	now := q.clock.Now()
	if u != nil && now.Sub(u.read) < storedUsageTTL {
		n := u.bytes + u.added
		q.mu.Unlock()
		return n, nil
	}
	q.mu.Unlock()
	n, err := uc.StoredBytes(ctx, company)
	if err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stored[company] = &storedUsage{bytes: n, read: now}
	return n, nil
}

// accepted counts an event just stored for the company.
func (q *quotas) accepted(company int64, size int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if u := q.stored[company]; u != nil {
		u.added += int64(size)
	}
}
