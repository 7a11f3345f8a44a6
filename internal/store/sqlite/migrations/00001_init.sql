-- Times are integer unix nanoseconds (UTC). Empty strings, not NULL, stand
-- for "no workflow/campaign/secret" so they can sit in unique indexes.

-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    hash         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE subscriptions (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id),
    webhook_url       TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    workflow_id       TEXT NOT NULL,
    campaign_id       TEXT NOT NULL,
    signing_secret    TEXT NOT NULL,
    previous_secret   TEXT NOT NULL DEFAULT '',
    previous_until    INTEGER,
    standard_webhooks INTEGER NOT NULL,
    status            TEXT NOT NULL,
    disabled_reason   TEXT NOT NULL DEFAULT '',
    failing_since     INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
) STRICT;
-- Backstop for the "identical active subscription" rule checked on create.
CREATE UNIQUE INDEX subscriptions_identity
    ON subscriptions (workspace_id, webhook_url, event_type, workflow_id, campaign_id)
    WHERE status = 'active' AND deleted_at IS NULL;
-- Routing: one lookup per (workspace, event type) at ingest; disabled
-- subscriptions are routed too (their deliveries are recorded as skipped).
CREATE INDEX subscriptions_routing
    ON subscriptions (workspace_id, event_type)
    WHERE deleted_at IS NULL;
CREATE INDEX subscriptions_workspace ON subscriptions (workspace_id, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    event_type      TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    data            BLOB NOT NULL,
    source_event_id TEXT NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX events_workspace ON events (workspace_id, id);
CREATE INDEX events_created ON events (created_at);

-- due_at is when the row may next be claimed: next_attempt_at, or the end of
-- a live lease. Claims then scan only claimable rows instead of stepping over
-- every leased one; it is NULL once the delivery is final.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    event_id        TEXT NOT NULL REFERENCES events (id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    due_at          INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- created_at rides along so PendingStats is answered from the index alone.
CREATE INDEX deliveries_due ON deliveries (due_at, created_at) WHERE status = 'pending';
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE attempts (
    delivery_id   TEXT NOT NULL REFERENCES deliveries (id),
    number        INTEGER NOT NULL,
    id            TEXT NOT NULL,
    at            INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    latency_ns    INTEGER NOT NULL,
    error_class   TEXT NOT NULL,
    error         TEXT NOT NULL,
    response_body BLOB NOT NULL, -- receivers may answer with any bytes
    PRIMARY KEY (delivery_id, number)
) STRICT, WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL,
    key          TEXT NOT NULL,
    response_ids TEXT NOT NULL, -- JSON array
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE leaders (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE leaders;
DROP TABLE idempotency_keys;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE subscriptions;
DROP TABLE api_keys;
DROP TABLE workspaces;
