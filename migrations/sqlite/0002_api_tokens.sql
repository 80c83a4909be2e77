-- Bearer tokens for the API. Only a SHA-256 hash of each token is kept; the token itself
-- is shown once, when it is created.
CREATE TABLE api_tokens
(
    id           text PRIMARY KEY,
    actor        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'secretary', 'partner', 'rijk', 'auditor')),
    organisation text,
    token_hash   text NOT NULL UNIQUE,
    created_at   text NOT NULL,
    revoked_at   text
) STRICT;
