-- 0001: the schema of hookgate's shared store (see docs/postgres.md).
-- Ids are text: the gateway makes UUIDs, and the store keeps what it is given.

-- Webhooks are kept as their JSON document (fields added to store.Webhook
-- need no migration); the columns are what queries filter on.
CREATE SEQUENCE webhook_ids;
CREATE TABLE webhooks (
    webhook_id text PRIMARY KEY,
    id         bigint NOT NULL UNIQUE,
    company_id bigint NOT NULL,
    status     text   NOT NULL,
    doc        jsonb  NOT NULL
);
CREATE INDEX webhooks_company ON webhooks (company_id, id);

CREATE TABLE history (
    id         bigserial PRIMARY KEY,
    webhook_id text        NOT NULL,
    created_at timestamptz NOT NULL,
    doc        jsonb       NOT NULL
);
CREATE INDEX history_webhook ON history (webhook_id, id);
CREATE INDEX history_created ON history (created_at);

CREATE TABLE events (
    id            text PRIMARY KEY,
    trace_id      text        NOT NULL,
    name          text        NOT NULL,
    company_id    bigint      NOT NULL,
    work_order_id bigint      NOT NULL,
    payload       bytea       NOT NULL,
    received_at   timestamptz NOT NULL
);
CREATE INDEX events_received ON events (received_at);

-- One row per (event, webhook). lease_owner/lease_until are set while a
-- replica holds the delivery in flight; lease_until is on the database's
-- clock, so replicas' clocks need not agree.
CREATE TABLE deliveries (
    id            text PRIMARY KEY,
    event_id      text        NOT NULL,
    webhook_id    text        NOT NULL,
    company_id    bigint      NOT NULL,
    event_name    text        NOT NULL,
    work_order_id bigint      NOT NULL,
    priority      smallint    NOT NULL,
    attempts      integer     NOT NULL DEFAULT 0,
    state         text        NOT NULL,
    due_at        timestamptz NOT NULL,
    last_status   integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    dead_reason   text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    lease_owner   text,
    lease_until   timestamptz
);
-- The queue: only pending rows, in claim order.
CREATE INDEX deliveries_queue ON deliveries (priority, due_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_leases ON deliveries (lease_until) WHERE state = 'inflight';
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('succeeded', 'dead');

-- One row per attempt. doc is the whole record as JSON; the columns are
-- the delivery-log filters. Webhook stats are derived from these rows.
CREATE TABLE attempts (
    delivery_id     text        NOT NULL,
    attempt         integer     NOT NULL,
    webhook_id      text        NOT NULL,
    company_id      bigint      NOT NULL,
    event_name      text        NOT NULL,
    work_order_id   bigint      NOT NULL,
    response_status integer     NOT NULL,
    success         boolean     NOT NULL,
    created_at      timestamptz NOT NULL,
    doc             bytea       NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX attempts_company ON attempts (company_id, created_at);
CREATE INDEX attempts_webhook ON attempts (webhook_id, created_at);
CREATE INDEX attempts_webhook_success ON attempts (webhook_id, created_at) WHERE success;
CREATE INDEX attempts_created ON attempts (created_at);

-- The key is bytea: callers scope keys with a NUL separator.
CREATE TABLE idempotency (
    key        bytea PRIMARY KEY,
    response   bytea       NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX idempotency_expires ON idempotency (expires_at);

CREATE TABLE meta (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- Token buckets of the API rate limit, shared by every replica.
CREATE TABLE rate_buckets (
    key    text PRIMARY KEY,
    tokens  double precision NOT NULL,
    at      timestamptz      NOT NULL,
    granted boolean          NOT NULL -- whether the last take got a token
);
CREATE INDEX rate_buckets_at ON rate_buckets (at);
