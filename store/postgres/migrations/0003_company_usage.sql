-- 0002: stored event bytes per company, for the stored-bytes quota
-- (config quotas.stored_bytes). Ingest adds an event's payload bytes to one
-- of 16 shards of its company's counter (chosen by the event id, so
-- concurrent publishes of one company seldom wait on the same row); the
-- retention sweep takes them off shard 0. A company's figure is the sum of
-- its shards.
CREATE TABLE company_usage (
    company_id bigint   NOT NULL,
    shard      smallint NOT NULL,
    bytes      bigint   NOT NULL,
    PRIMARY KEY (company_id, shard)
);
INSERT INTO company_usage (company_id, shard, bytes)
    SELECT company_id, 0, sum(octet_length(payload)) FROM events GROUP BY company_id;
