-- The event log: the single source of truth of the alliance ledger.
--
-- The first seven columns are those postgres-es reads and writes. `position` and
-- `recorded_at` are assigned here, by the database, so that every writer (this
-- application, a second server, a bulk import) obeys the same order:
--   * `position` is dense (1, 2, 3, ...) and follows commit order: the counter row in
--     `event_log_head` is locked by the first insert of a transaction until it commits,
--     so no transaction can take a later position and commit before an earlier one;
--     a rolled-back transaction rolls its positions back with it, leaving no gap;
--   * `recorded_at` never decreases with position, even if the system clock steps back.
-- The log is append-only: UPDATE, DELETE and TRUNCATE fail for every role, the owner's
-- included. Only a superuser who disables the triggers can change history, and the audit
-- trail (signed Merkle checkpoints) exists to prove that no one did.

CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    position       bigint CHECK (position >= 1) NOT NULL,
    recorded_at    timestamptz                  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_position ON events (position);

-- postgres-es needs this table to exist; the ledger never writes snapshots of aggregates.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- One row: the last position handed out and its time.
CREATE TABLE event_log_head
(
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position    bigint      NOT NULL CHECK (position >= 0),
    recorded_at timestamptz NOT NULL
);
INSERT INTO event_log_head (singleton, position, recorded_at) VALUES (true, 0, '-infinity');

CREATE FUNCTION events_assign_position() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    next_position bigint;
    next_time     timestamptz;
BEGIN
    UPDATE event_log_head
       SET position    = position + 1,
           recorded_at = greatest(clock_timestamp(), recorded_at)
     WHERE singleton
    RETURNING position, recorded_at INTO next_position, next_time;
    NEW.position := next_position;
    NEW.recorded_at := next_time;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_assign_position
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_assign_position();

CREATE FUNCTION refuse_history_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'record a new event that corrects the earlier one';
END
$$;

-- Statement-level, so that the refusal holds even when no row matches.
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- The head only ever moves forward by one, and is never removed.
CREATE FUNCTION event_log_head_forward_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NEW.position <> OLD.position + 1 OR NEW.recorded_at < OLD.recorded_at
        OR NEW.singleton IS DISTINCT FROM OLD.singleton THEN
        RAISE EXCEPTION 'the event log head only moves forward by one position'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER event_log_head_forward_only
    BEFORE UPDATE ON event_log_head
    FOR EACH ROW EXECUTE FUNCTION event_log_head_forward_only();
CREATE TRIGGER event_log_head_keep
    BEFORE DELETE OR TRUNCATE ON event_log_head
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
