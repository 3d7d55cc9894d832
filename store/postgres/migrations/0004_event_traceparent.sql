-- 0004: the W3C traceparent of an event's publish span, the parent of its
-- attempts' spans (telemetry block; docs/observability.md). Empty when
-- tracing was off.
ALTER TABLE events ADD COLUMN traceparent text NOT NULL DEFAULT '';
