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
// per-company in-flight limits, gateway/fairness.go). The candidate rows are
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
	admit := func(d *store.Delivery) bool {
		// Blocked is the cheap answer for a webhook at its limit.
		return (f.Blocked == nil || !f.Blocked(d.WebhookID)) && f.Admit(d)
	}
	companyBlocked := func(id int64) bool { return f.BlockedCompany != nil && f.BlockedCompany(id) }
	page := max(4*limit, 128)
	s.runs.mu.Lock()
	defer s.runs.mu.Unlock()
	var out []*store.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		out = out[:0]
		var ids []string
		runs := s.runs.live(priority, time.Now())
		var found []claimRun
		sc := runCursor{runs: runs, end: endOf(now)}
		for pages := 0; pages < claimPages && len(out) < limit; {
			upper, done := sc.next(companyBlocked)
			if done {
				break
			}
			from := ">="
			if sc.after {
				from = ">"
			}
			rows, err := tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries
				WHERE state = 'pending' AND priority = $1 AND due_at <= $2
					AND (due_at, id) `+from+` ($3, $4) AND (due_at, id) < ($5, $6)
				ORDER BY due_at, id LIMIT $7 FOR UPDATE SKIP LOCKED`,
				priority, now, sc.at.due, sc.at.id, upper.due, upper.id, page)
			if err != nil {
				return err
			}
			cands, err := pgx.CollectRows(rows, scanDelivery)
			if err != nil {
				return err
			}
			pages++
			sc.pageEnd(cands, page, upper)
			for _, d := range cands {
				if len(out) >= limit {
					break
				}
				if admit(d) {
					d.State = store.DeliveryInFlight
					out = append(out, d)
					ids = append(ids, d.ID)
					continue
				}
				if !companyBlocked(d.CompanyID) {
					continue // its webhook is at its limit: only this row waits
				}
				// The backlog of a blocked company starts here: find where
				// the rows of blocked companies end, and go on from there.
				r, err := s.findRun(ctx, tx, priority, now, posOf(d), upper, companyBlocked, sc.blockedSeen(d.CompanyID))
				if err != nil {
					return err
				}
				found = append(found, r)
				sc.jump(r)
				break
			}
		}
		s.runs.save(priority, found, time.Now())
		if len(ids) == 0 {
			return nil
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

// findRun returns the run of rows of blocked companies that starts at
// first: up to the first pending due row after it of a company not in
// blocked (or upper). The read locks nothing: rows another replica holds
// locked are pending too and end the run like any other.
func (s *Store) findRun(ctx context.Context, tx pgx.Tx, priority int, now time.Time, first, upper pos, isBlocked func(int64) bool, blocked []int64) (claimRun, error) {
	r := claimRun{first: first, end: upper, companies: slices.Clone(blocked)}
	for {
		var next pos
		var company int64
		err := tx.QueryRow(ctx, `SELECT due_at, id, company_id FROM deliveries
			WHERE state = 'pending' AND priority = $1 AND due_at <= $2
				AND (due_at, id) > ($3, $4) AND (due_at, id) < ($5, $6) AND company_id <> ALL($7)
			ORDER BY due_at, id LIMIT 1`,
			priority, now, first.due, first.id, upper.due, upper.id, r.companies).Scan(&next.due, &next.id, &company)
		if err == pgx.ErrNoRows {
			return r, nil
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
		r.end = next
		return r, nil
	}
}
