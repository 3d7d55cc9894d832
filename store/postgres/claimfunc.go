package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

var _ store.FilteredClaimer = (*Store)(nil)

// claimPages bounds how far past refused deliveries ClaimDueFunc looks in
// one call: pages of max(4×limit, 128) rows. A backlog of refused ones
// longer than that waits for the next call (the dispatcher polls); the
// backlog of a blocked company is passed over in one step instead (runs).
const claimPages = 4

// ClaimDueFunc is ClaimDue that leaves queued, unclaimed and in order every
// due delivery the filter refuses (the dispatcher's per-webhook and
// per-company in-flight limits, gateway/delivery/fairness.go). The candidate rows are
// locked FOR UPDATE SKIP LOCKED in one transaction while the filter
// decides, so no other replica can claim them meanwhile; the refused ones
// are unlocked at commit.
//
// When the filter reports a refused delivery's company blocked, the rows
// from it on that belong to blocked companies are one run: found with one
// read that locks nothing, remembered (claimruns.go), and passed over in
// one step by this call and the next ones while those companies stay
// blocked. So another company's delivery behind a large backlog is reached
// at once, without locking or reading the backlog on every claim.
//
// The filter sees this replica's view only: with several replicas each keeps its
// own per-webhook and per-company limits, so a webhook may have up to
// replicas × the limit in flight.
func (s *Store) ClaimDueFunc(ctx context.Context, priority int, now time.Time, limit int, f store.ClaimFilter) ([]*store.Delivery, error) {
	if f.Admit == nil {
		return s.ClaimDue(ctx, priority, now, limit)
	}
	if ok, err := s.readyToClaim(ctx, priority, limit); !ok {
		return nil, err
	}
	s.runs.mu.Lock()
	defer s.runs.mu.Unlock()
	var out []*store.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c := &claimScan{s: s, tx: tx, prio: priority, now: now, limit: limit, f: f, page: max(4*limit, 128)}
		if err := c.scan(ctx); err != nil {
			return err
		}
		out = c.out
		if len(out) == 0 {
			return nil
		}
		ids := make([]string, len(out))
		for i, d := range out {
			ids[i] = d.ID
		}
		_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'inflight', lease_owner = $2,
			lease_until = clock_timestamp() + make_interval(secs => $3) WHERE id = ANY($1)`, ids, s.owner, s.lease.Seconds())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimScan is one ClaimDueFunc's walk along the queue.
type claimScan struct {
	s     *Store
	tx    pgx.Tx
	prio  int
	now   time.Time
	limit int
	page  int
	f     store.ClaimFilter
	sc    runCursor
	out   []*store.Delivery
	// waiting are the companies with rows refused for their webhooks (a
	// webhook at its limit, the slow share used up) in this scan.
	waiting []int64
	// waitingHooks are the webhooks of those rows.
	waitingHooks []string
}

func (c *claimScan) admit(d *store.Delivery) bool {
	// Blocked is the cheap answer for a webhook at its limit.
	if (c.f.Blocked == nil || !c.f.Blocked(d.WebhookID)) && c.f.Admit(d) {
		d.State = store.DeliveryInFlight
		c.out = append(c.out, d)
		return true
	}
	return false
}

func (c *claimScan) companyBlocked(id int64) bool {
	return c.f.BlockedCompany != nil && c.f.BlockedCompany(id)
}

// scan reads up to claimPages pages, passing over the runs of blocked
// companies, then looks past refused rows when the pages did not reach the
// end (lookahead).
func (c *claimScan) scan(ctx context.Context) error {
	c.sc = runCursor{runs: c.s.runs.live(c.prio, time.Now()), end: endOf(c.now)}
	var found []claimRun
	defer func() { c.s.runs.save(c.prio, found, time.Now()) }()
	for pages := 0; len(c.out) < c.limit; pages++ {
		upper, done := c.sc.next(c.companyBlocked)
		if done {
			return nil
		}
		if pages == claimPages {
			return c.lookahead(ctx)
		}
		cands, err := c.rows(ctx, upper, nil, nil, c.page)
		if err != nil {
			return err
		}
		c.sc.pageEnd(cands, c.page, upper)
		for _, d := range cands {
			if len(c.out) >= c.limit || c.admit(d) {
				continue
			}
			if !c.companyBlocked(d.CompanyID) {
				if !slices.Contains(c.waiting, d.CompanyID) {
					c.waiting = append(c.waiting, d.CompanyID)
				}
				if !slices.Contains(c.waitingHooks, d.WebhookID) {
					c.waitingHooks = append(c.waitingHooks, d.WebhookID)
				}
				continue // its webhook is at its limit: only this row waits
			}
			// The backlog of a blocked company starts here: find where
			// the rows of blocked companies end, and go on from there.
			r, err := c.s.findRun(ctx, c.tx, c.prio, c.now, posOf(d), upper, c.companyBlocked, c.sc.blockedSeen(d.CompanyID))
			if err != nil {
				return err
			}
			found = append(found, r)
			c.sc.jump(r)
			break
		}
	}
	return nil
}

// rows locks and returns up to n pending due rows from the cursor to upper,
// of companies not in except.
// exceptHooks leaves out those webhooks' rows too.
func (c *claimScan) rows(ctx context.Context, upper pos, except []int64, exceptHooks []string, n int) ([]*store.Delivery, error) {
	from := ">="
	if c.sc.after {
		from = ">"
	}
	if except == nil {
		except = []int64{} // <> ALL(NULL) is never true
	}
	if exceptHooks == nil {
		exceptHooks = []string{}
	}
	rows, err := c.tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		WHERE state = 'pending' AND priority = $1 AND due_at <= $2
			AND (due_at, id) `+from+` ($3, $4) AND (due_at, id) < ($5, $6) AND company_id <> ALL($7) AND `+laneOpen+`
			AND webhook_id <> ALL($9)
		ORDER BY due_at, id LIMIT $8 FOR UPDATE SKIP LOCKED`,
		c.prio, c.now, c.sc.at.due, c.sc.at.id, upper.due, upper.id, except, n, exceptHooks)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDelivery)
}

// lookahead runs when the pages ended in rows refused for their webhooks
// (a company's not yet known or slow webhooks holding the slow share, a
// webhook waiting for its rate limit): another company's delivery, or the
// same company's for another webhook, may be behind any number of them. It
// reads past them to the end, leaving out the companies that had rows
// refused, then, while there is room, only the refused webhooks' rows; at
// most every lookaheadEvery (the reads walk that backlog).
func (c *claimScan) lookahead(ctx context.Context) error {
	if len(c.waiting) == 0 || !c.s.runs.lookaheadDue(c.prio, time.Now()) {
		return nil
	}
	cands, err := c.rows(ctx, c.sc.end, append(slices.Clone(c.waiting), c.sc.blocked...), nil, c.limit-len(c.out))
	if err != nil {
		return err
	}
	for _, d := range cands {
		c.admit(d)
	}
	if len(c.out) == c.limit {
		return nil
	}
	// Then the waiting companies' other webhooks: one webhook waiting for
	// its rate limit's next token (gateway/delivery/throttle.go) must not
	// hold back its company's other webhooks behind its backlog.
	cands, err = c.rows(ctx, c.sc.end, c.sc.blocked, c.waitingHooks, c.limit-len(c.out))
	if err != nil {
		return err
	}
	for _, d := range cands {
		if !slices.ContainsFunc(c.out, func(o *store.Delivery) bool { return o.ID == d.ID }) {
			c.admit(d)
		}
	}
	return nil
}

// findRun returns the run of rows of blocked companies that starts at
// first: up to the first pending due row after it of a company not in
// blocked, or else to the last row before upper. The read locks nothing:
// rows another replica holds locked are pending too and end the run like
// any other.
func (s *Store) findRun(ctx context.Context, tx pgx.Tx, priority int, now time.Time, first, upper pos, isBlocked func(int64) bool, blocked []int64) (claimRun, error) {
	r := claimRun{first: first, end: first, endIncl: true, companies: slices.Clone(blocked)}
	start := first
	for {
		var next pos
		var company int64
		err := tx.QueryRow(ctx, `SELECT due_at, id, company_id FROM deliveries
			WHERE state = 'pending' AND priority = $1 AND due_at <= $2
				AND (due_at, id) > ($3, $4) AND (due_at, id) < ($5, $6) AND company_id <> ALL($7)
			ORDER BY due_at, id LIMIT 1`,
			priority, now, first.due, first.id, upper.due, upper.id, r.companies).Scan(&next.due, &next.id, &company)
		if err == pgx.ErrNoRows {
			// Blocked companies' rows up to upper: the run ends at the last.
			err = tx.QueryRow(ctx, `SELECT due_at, id FROM deliveries
				WHERE state = 'pending' AND priority = $1 AND due_at <= $2
					AND (due_at, id) >= ($3, $4) AND (due_at, id) < ($5, $6)
				ORDER BY due_at DESC, id DESC LIMIT 1`,
				priority, now, start.due, start.id, upper.due, upper.id).Scan(&r.end.due, &r.end.id)
			if err == pgx.ErrNoRows {
				err = nil
			}
			return r, err
		}
		if err != nil {
			return r, err
		}
		// A company blocked too (within maxRunCompanies) joins the run, as
		// interleaved backlogs of several blocked companies are one run.
		if len(r.companies) < maxRunCompanies && isBlocked(company) {
			r.companies = append(r.companies, company)
			first = next
			continue
		}
		r.end, r.endIncl = next, false
		return r, nil
	}
}
