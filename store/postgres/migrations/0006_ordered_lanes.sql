-- 0004: ordered delivery per work order (webhook ordering = "work_order";
-- docs/delivery.md, "Ordering"). A sequenced delivery (sequence > 0) is
-- claimed only when no earlier delivery of its lane (webhook, work order)
-- is open or dead holding the lane, and none of its lane is in flight.
ALTER TABLE deliveries ADD COLUMN sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN holds_lane boolean NOT NULL DEFAULT false;
-- The lane gate's lookups: only rows that keep their lane waiting.
CREATE INDEX deliveries_lane ON deliveries (webhook_id, work_order_id, sequence)
    WHERE sequence > 0 AND (state IN ('pending', 'inflight') OR holds_lane);

-- Each lane's last sequence, bumped by ingest: the row lock orders the
-- publishes of one work order across replicas as their commits do.
CREATE TABLE lane_sequences (
    webhook_id    text   NOT NULL,
    work_order_id bigint NOT NULL,
    last          bigint NOT NULL,
    PRIMARY KEY (webhook_id, work_order_id)
);
