-- Attempt records keep at most the first part of each body
-- (delivery_log.max_body); these are the full sizes of the bodies as sent
-- and received. Rows written before hold whole bodies: 0 reads as the
-- length of the body in doc.
ALTER TABLE attempts
    ADD COLUMN request_body_size  bigint NOT NULL DEFAULT 0,
    ADD COLUMN response_body_size bigint NOT NULL DEFAULT 0;
