-- +goose Up
-- Scopes of API keys, portal sessions, and test events (sent to one
-- subscription by "send test event"). Keys made before scopes existed could
-- do everything, and keep that.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{api_keys,ingest,read,subscriptions:write}';

CREATE TABLE portal_sessions (
    id           text COLLATE "C" PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL REFERENCES workspaces (id),
    hash         bytea NOT NULL,
    scopes       text[] NOT NULL,
    event_types  text[] NOT NULL,
    brand_color  text NOT NULL,
    brand_name   text NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);

ALTER TABLE events ADD COLUMN test boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE events DROP COLUMN test;
DROP TABLE portal_sessions;
ALTER TABLE api_keys DROP COLUMN scopes;
