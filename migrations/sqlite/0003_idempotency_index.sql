-- Find the events a client's idempotency key already produced, without scanning the log.
CREATE INDEX events_idempotency_key ON events (json_extract(metadata, '$.idempotency_key'))
    WHERE json_extract(metadata, '$.idempotency_key') IS NOT NULL;
