-- The event log: the single source of truth of the alliance ledger.
--
-- SQLite admits one writer at a time, so commit order is insert order. Writers insert
-- through the view `event_appends` (the table sqlite-es is configured with); its trigger
-- assigns the next dense `position` and a `recorded_at` that never decreases. A direct
-- insert into `events` must carry exactly those values, or it is refused.
-- The log is append-only: UPDATE and DELETE fail for every connection.

CREATE TABLE events
(
    position       integer NOT NULL UNIQUE CHECK (position >= 1),
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    sequence       integer NOT NULL CHECK (sequence >= 0),
    event_type     text    NOT NULL,
    event_version  text    NOT NULL,
    payload        text    NOT NULL,
    metadata       text    NOT NULL,
    recorded_at    text    NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

-- sqlite-es needs this table to exist; the ledger never writes snapshots of aggregates.
CREATE TABLE snapshots
(
    aggregate_type   text    NOT NULL,
    aggregate_id     text    NOT NULL,
    last_sequence    integer NOT NULL CHECK (last_sequence >= 0),
    current_snapshot integer NOT NULL CHECK (current_snapshot >= 0),
    payload          text    NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

CREATE VIEW event_appends AS
SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
FROM events;

CREATE TRIGGER event_appends_insert
    INSTEAD OF INSERT ON event_appends
BEGIN
    INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type,
                        event_version, payload, metadata, recorded_at)
    VALUES ((SELECT coalesce(max(position), 0) + 1 FROM events),
            NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.event_type,
            NEW.event_version, NEW.payload, NEW.metadata,
            max(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                coalesce((SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1), '')));
END;

CREATE TRIGGER events_in_order
    BEFORE INSERT ON events
BEGIN
    SELECT raise(ABORT, 'the event log is append-only: a new event must take the next position and a time not before the last')
    WHERE NEW.position IS NOT (SELECT coalesce(max(position), 0) + 1 FROM events)
       OR NEW.recorded_at < coalesce((SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1), '');
END;

CREATE TRIGGER events_no_update
    BEFORE UPDATE ON events
BEGIN
    SELECT raise(ABORT, 'the event log is append-only: UPDATE on events is not allowed');
END;

CREATE TRIGGER events_no_delete
    BEFORE DELETE ON events
BEGIN
    SELECT raise(ABORT, 'the event log is append-only: DELETE on events is not allowed');
END;
