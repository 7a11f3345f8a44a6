-- Scopes of API keys, portal sessions, and test events (sent to one
-- subscription by "send test event"). Scope and event type lists are
-- space-separated: neither ever contains a space. Keys made before scopes
-- existed could do everything, and keep that.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'api_keys ingest read subscriptions:write';

CREATE TABLE portal_sessions (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    hash         BLOB NOT NULL,
    scopes       TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    brand_color  TEXT NOT NULL,
    brand_name   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);

ALTER TABLE events ADD COLUMN test INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE events DROP COLUMN test;
DROP TABLE portal_sessions;
ALTER TABLE api_keys DROP COLUMN scopes;
