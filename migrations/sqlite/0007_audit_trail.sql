-- The audit trail: the leaf hash of every event as the ledger computed it when it first read the
-- event, and the checkpoints it signed over the Merkle tree of those leaves (see docs/audit.md).
--
-- Both tables are append-only like `events`. They prove nothing by themselves: a verifier
-- recomputes every leaf from the event and every root from the leaves, and trusts only the
-- Ed25519 signatures on the checkpoints. The stored leaf hashes let it name exactly which event
-- changed; the checkpoints let it prove that nothing before them changed at all.

CREATE TABLE audit_leaves
(
    -- The event's position; the leaf's index in the tree is position - 1.
    position  integer PRIMARY KEY CHECK (position >= 1),
    -- RFC 9162 leaf hash of the event's canonical encoding (32 bytes).
    leaf_hash blob    NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

CREATE TABLE audit_checkpoints
(
    -- The number of events the checkpoint covers.
    tree_size integer PRIMARY KEY CHECK (tree_size >= 1),
    -- The root hash of the tree over the first tree_size events (32 bytes).
    root_hash blob    NOT NULL CHECK (length(root_hash) = 32),
    -- The signed note (C2SP checkpoint), exactly as published.
    note      text    NOT NULL,
    -- RFC 3339, UTC.
    signed_at text    NOT NULL
) STRICT;

CREATE TRIGGER audit_leaves_no_update
    BEFORE UPDATE ON audit_leaves
BEGIN
    SELECT raise(ABORT, 'the audit trail is append-only: UPDATE on audit_leaves is not allowed');
END;
CREATE TRIGGER audit_leaves_no_delete
    BEFORE DELETE ON audit_leaves
BEGIN
    SELECT raise(ABORT, 'the audit trail is append-only: DELETE on audit_leaves is not allowed');
END;
CREATE TRIGGER audit_checkpoints_no_update
    BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT raise(ABORT, 'the audit trail is append-only: UPDATE on audit_checkpoints is not allowed');
END;
CREATE TRIGGER audit_checkpoints_no_delete
    BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT raise(ABORT, 'the audit trail is append-only: DELETE on audit_checkpoints is not allowed');
END;
