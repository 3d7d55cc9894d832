package postgres

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/store"
)

var _ store.RateBuckets = (*Store)(nil)

// TakeToken takes one token from the named bucket shared by every replica:
// the bucket refills at perSecond up to burst, and is read and written in
// one statement under its row lock, so concurrent requests on different
// replicas are counted exactly once each. Time is the caller's clock; a
// replica whose clock is behind cannot move a bucket back (GREATEST), so
// clock skew between replicas can only add skew × perSecond tokens.
// It returns whether the token was granted and how many are left.
func (s *Store) TakeToken(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (bool, float64, error) {
	if err := s.check(ctx); err != nil {
		return false, 0, err
	}
	var tokens float64
	var allowed bool
	// refill is the bucket's tokens as of now; the row lock taken by
	// ON CONFLICT makes the read and the write one step.
	const refill = `least($3::float8, r.tokens + $4::float8 * greatest(0, extract(epoch FROM ($2::timestamptz - r.at))))`
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_buckets AS r (key, tokens, at, granted) VALUES ($1, $3::float8 - 1, $2, true)
		ON CONFLICT (key) DO UPDATE SET
			tokens = `+refill+` - CASE WHEN `+refill+` >= 1 THEN 1 ELSE 0 END,
			granted = `+refill+` >= 1,
			at = greatest(r.at, $2::timestamptz)
		RETURNING tokens, granted`,
		key, now, float64(burst), perSecond).Scan(&tokens, &allowed)
	return allowed, tokens, err
}

// HoldBucket sets the bucket's tokens so that it reaches one at until:
// every replica's TakeToken is refused until then. It also records until
// as the bucket's hold (never shortening a longer one), which HeldBuckets
// lists: a bucket without a rate (perSecond 0) is held only that way.
func (s *Store) HoldBucket(ctx context.Context, key string, perSecond float64, now, until time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tokens := 1 - perSecond*until.Sub(now).Seconds()
	_, err := s.pool.Exec(ctx, `INSERT INTO rate_buckets AS r (key, tokens, at, granted, held_until) VALUES ($1, $2, $3, false, $4)
		ON CONFLICT (key) DO UPDATE SET tokens = least(r.tokens, $2::float8), at = $3,
			held_until = greatest(r.held_until, $4::timestamptz)`, key, tokens, now, until)
	return err
}

// HeldBuckets returns the buckets whose keys start with prefix and whose
// hold ends after now, with when it ends. It reads the partial index of
// held rows only.
func (s *Store) HeldBuckets(ctx context.Context, prefix string, now time.Time) (map[string]time.Time, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT key, held_until FROM rate_buckets
		WHERE held_until IS NOT NULL AND held_until > $2 AND starts_with(key, $1)`, prefix, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[string]time.Time{}
	for rows.Next() {
		var key string
		var until time.Time
		if err := rows.Scan(&key, &until); err != nil {
			return nil, err
		}
		held[key] = until
	}
	return held, rows.Err()
}
