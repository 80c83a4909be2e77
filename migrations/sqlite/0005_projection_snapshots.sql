-- Snapshots of the read models (the whole folded `LedgerState`), so that a server starts from
-- the newest one and folds only the events after it instead of the whole log.
--
-- Unlike `events`, this table is NOT append-only and holds nothing that cannot be rebuilt: the
-- servers that write snapshots keep only the newest few, and any row may be deleted at any
-- time (`DELETE FROM projection_snapshots` only makes the next start slower). A snapshot is
-- trusted at start only when its format is the current one, its state re-serialises to
-- `checksum`, `position` is not beyond the log's head, and `last_event_hash` is the hash of the
-- log's event at `position` (see projections/src/snapshot.rs).
CREATE TABLE projection_snapshots
(
    -- The last event folded into the state.
    position        integer PRIMARY KEY CHECK (position >= 1),
    -- SHA-256 of the canonical serialisation of the state (as `replay` prints it), lowercase hex.
    checksum        text    NOT NULL,
    -- How `state` is encoded; a server ignores snapshots of any other format.
    format          integer NOT NULL,
    -- SHA-256 of the canonical JSON of the event at `position`: ties the snapshot to this log.
    last_event_hash text    NOT NULL,
    -- The encoded state (compressed by the application, see `format`).
    state           blob    NOT NULL,
    -- RFC 3339, UTC.
    created_at      text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
