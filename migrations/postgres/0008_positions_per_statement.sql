-- Positions handed out once per INSERT statement instead of once per row, so that a statement
-- appending thousands of events (a bulk import) costs one update of the head, not one each.
--
-- The guarantees of 0001 stay:
--   * before the statement's first row, `events_take_head` locks the single row of
--     `event_log_head` (FOR UPDATE) until the transaction ends, so transactions that append
--     still commit one after another, in position order, and a rollback gives its positions back;
--   * each row takes the next position after the head (`events_assign_position`), counted in a
--     setting local to the transaction that the statement trigger resets from the head;
--   * after the statement, `events_advance_head` checks that the statement's rows hold exactly
--     the positions after the head, one each with no gap (whatever a client did to the setting),
--     and moves the head to the last of them;
--   * every row of a statement is recorded at the statement's time: the later of the clock and
--     the head's time, so `recorded_at` never decreases with position;
--   * the head moves only from these triggers, and only forward: an UPDATE of
--     `event_log_head` by hand is refused.

CREATE OR REPLACE FUNCTION events_take_head() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    head_position bigint;
    head_time     timestamptz;
BEGIN
    SELECT position, greatest(clock_timestamp(), recorded_at)
      INTO head_position, head_time
      FROM event_log_head
     WHERE singleton
       FOR UPDATE;
    PERFORM set_config('alliance_ledger.statement_head', head_position::text, true);
    PERFORM set_config('alliance_ledger.last_position', head_position::text, true);
    -- ISO 8601 in UTC to the microsecond: read back exactly whatever the session's DateStyle.
    PERFORM set_config('alliance_ledger.recorded_at',
                       to_char(head_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00"'),
                       true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION events_assign_position() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.position := current_setting('alliance_ledger.last_position')::bigint + 1;
    NEW.recorded_at := current_setting('alliance_ledger.recorded_at')::timestamptz;
    PERFORM set_config('alliance_ledger.last_position', NEW.position::text, true);
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION events_advance_head() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    head_position bigint := current_setting('alliance_ledger.statement_head')::bigint;
    last_position bigint := current_setting('alliance_ledger.last_position')::bigint;
    appended      bigint;
    highest       bigint;
BEGIN
    IF last_position = head_position THEN
        RETURN NULL;
    END IF;
    -- Both by the position index, whatever the planner knows about the table: a bounded range,
    -- and max() (which PostgreSQL reads from the end of the index).
    SELECT count(*) INTO appended
      FROM events
     WHERE position > head_position AND position <= last_position;
    SELECT max(position) INTO highest FROM events;
    IF appended IS DISTINCT FROM last_position - head_position
        OR highest IS DISTINCT FROM last_position THEN
        RAISE EXCEPTION 'the event log is append-only: new events must take the positions right after the head, without gaps'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE event_log_head
       SET position    = last_position,
           recorded_at = current_setting('alliance_ledger.recorded_at')::timestamptz
     WHERE singleton;
    RETURN NULL;
END
$$;

-- Only the append triggers move the head (they run it at trigger depth 2), and only forward.
CREATE OR REPLACE FUNCTION event_log_head_forward_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF pg_trigger_depth() < 2 OR NEW.position <= OLD.position
        OR NEW.recorded_at < OLD.recorded_at OR NEW.singleton IS DISTINCT FROM OLD.singleton THEN
        RAISE EXCEPTION 'the event log head only moves forward, as events are appended'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_take_head
    BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_take_head();

CREATE TRIGGER events_advance_head
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_advance_head();
