-- One request per idempotency key. The first event of a command claims its key for the
-- command's request; an event of another request under the same key violates the primary key,
-- which the command path reports as a conflict and answers from the events already recorded.
-- Concurrent requests with one key therefore record exactly one effect.
CREATE TABLE idempotency_keys
(
    idempotency_key text PRIMARY KEY,
    request_id      text NOT NULL
);

CREATE FUNCTION events_claim_idempotency_key() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    claimed_key text := NEW.metadata ->> 'idempotency_key';
    request     text := coalesce(NEW.metadata ->> 'request_id', '');
BEGIN
    IF claimed_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (idempotency_key, request_id)
        SELECT claimed_key, request
        WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys
                          WHERE idempotency_key = claimed_key AND request_id = request);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_claim_idempotency_key
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_claim_idempotency_key();
