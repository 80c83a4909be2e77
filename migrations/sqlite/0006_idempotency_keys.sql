-- One request per idempotency key. The first event of a command claims its key for the
-- command's request; an event of another request under the same key violates the primary key,
-- which the command path reports as a conflict and answers from the events already recorded.
CREATE TABLE idempotency_keys
(
    idempotency_key text PRIMARY KEY,
    request_id      text NOT NULL
) STRICT;

CREATE TRIGGER events_claim_idempotency_key
    BEFORE INSERT ON events
    WHEN json_extract(NEW.metadata, '$.idempotency_key') IS NOT NULL
BEGIN
    INSERT INTO idempotency_keys (idempotency_key, request_id)
    SELECT json_extract(NEW.metadata, '$.idempotency_key'),
           coalesce(json_extract(NEW.metadata, '$.request_id'), '')
    WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys
                      WHERE idempotency_key = json_extract(NEW.metadata, '$.idempotency_key')
                        AND request_id = coalesce(json_extract(NEW.metadata, '$.request_id'), ''));
END;
