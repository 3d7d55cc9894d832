-- 0004: per-minute rollups of delivery traffic for the dashboard's charts
-- (store.Rollups, rollups.go). One row per scope and minute: a webhook
-- (webhook_id set), a company (webhook_id ''), or the whole gateway
-- (company_id 0, webhook_id ''). Every replica adds its own counts to the
-- same row, so the row is summed in place: attempts per outcome as a JSON
-- object of counts, latency as the counts of store.Histogram's fixed
-- buckets, queue depth per priority as the most seen.
CREATE TABLE rollups (
    company_id  bigint      NOT NULL,
    webhook_id  text        NOT NULL,
    minute      timestamptz NOT NULL,
    attempts    jsonb       NOT NULL DEFAULT '{}',
    latency     bigint[]    NOT NULL DEFAULT '{}',
    depth_high  bigint      NOT NULL DEFAULT 0,
    depth_norm  bigint      NOT NULL DEFAULT 0,
    depth_low   bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, webhook_id, minute)
);
-- Retention deletes by age.
CREATE INDEX rollups_minute ON rollups (minute);

-- rollup_add_counts sums two {"outcome": count} objects key by key.
CREATE FUNCTION rollup_add_counts(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
    FROM (SELECT k, sum(v::bigint) AS n
          FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS t(k, v)
          GROUP BY k) AS s
$$;

-- rollup_add_buckets sums two bucket arrays element by element (the
-- shorter is padded with zeros).
CREATE FUNCTION rollup_add_buckets(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
    FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;
