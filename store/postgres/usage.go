package postgres

import (
	"context"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

var _ store.UsageCounter = (*Store)(nil)

// usageShards is how many rows share a company's stored-bytes counter
// (migration 0002): an ingest adds to one, chosen by its first event id,
// so concurrent publishes of one company seldom wait for each other's
// commits on the same row.
const usageShards = 16

// StoredBytes returns the payload bytes of the company's stored events.
func (s *Store) StoredBytes(ctx context.Context, companyID int64) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(bytes), 0)::bigint FROM company_usage WHERE company_id = $1`, companyID).Scan(&n)
	return n, err
}

// queueUsage adds the items' payload bytes to their companies' counters,
// one shard for the whole call and companies in order, so that two ingests
// lock counter rows in the same order and cannot deadlock.
func queueUsage(b *pgx.Batch, items []store.IngestItem) {
	if len(items) == 0 {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(items[0].Event.ID))
	shard := int16(h.Sum32() % usageShards)
	add := map[int64]int64{}
	for _, it := range items {
		add[it.Event.CompanyID] += int64(len(it.Event.Payload))
	}
	companies := make([]int64, 0, len(add))
	for co := range add {
		companies = append(companies, co)
	}
	slices.Sort(companies)
	for _, co := range companies {
		b.Queue(`INSERT INTO company_usage (company_id, shard, bytes) VALUES ($1, $2, $3)
			ON CONFLICT (company_id, shard) DO UPDATE SET bytes = company_usage.bytes + EXCLUDED.bytes`, co, shard, add[co])
	}
}
