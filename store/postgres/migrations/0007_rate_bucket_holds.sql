-- 0007: a receiver's 429 with Retry-After pauses a webhook on every
-- replica, with or without a rate limit (docs/delivery.md, "Rate
-- limits"). held_until is when the hold of a bucket ends; replicas read
-- the buckets held past now before their claims (HeldBuckets).
ALTER TABLE rate_buckets ADD COLUMN held_until timestamptz;
-- Only held rows: the read skips the API's buckets and the idle ones.
CREATE INDEX rate_buckets_held ON rate_buckets (held_until) WHERE held_until IS NOT NULL;
