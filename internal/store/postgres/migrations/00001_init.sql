-- +goose Up
CREATE TABLE workspaces (
    id         text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    hash         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Unscoped and secretless columns hold '' rather than NULL so equality in
-- the uniqueness rule and in routing needs no NULL handling.
CREATE TABLE subscriptions (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL REFERENCES workspaces (id),
    webhook_url       text NOT NULL,
    event_type        text NOT NULL,
    workflow_id       text NOT NULL DEFAULT '',
    campaign_id       text NOT NULL DEFAULT '',
    signing_secret    text NOT NULL DEFAULT '',
    previous_secret   text NOT NULL DEFAULT '',
    previous_until    timestamptz,
    standard_webhooks boolean NOT NULL DEFAULT false,
    status            text NOT NULL,
    disabled_reason   text NOT NULL DEFAULT '',
    failing_since     timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz
);
-- At most one live active subscription per url, type and scope.
CREATE UNIQUE INDEX subscriptions_active_unique
    ON subscriptions (workspace_id, event_type, webhook_url, workflow_id, campaign_id)
    WHERE status = 'active' AND deleted_at IS NULL;
-- Routing reads live subscriptions (active, and disabled ones, which get
-- skipped deliveries) by workspace and type.
CREATE INDEX subscriptions_routing ON subscriptions (workspace_id, event_type)
    WHERE deleted_at IS NULL;
CREATE INDEX subscriptions_workspace ON subscriptions (workspace_id, id);

-- data is bytea: the exact bytes received must be delivered (jsonb would
-- reorder keys and respell numbers).
CREATE TABLE events (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL REFERENCES workspaces (id),
    event_type      text NOT NULL,
    workflow_id     text NOT NULL DEFAULT '',
    campaign_id     text NOT NULL DEFAULT '',
    occurred_at     timestamptz NOT NULL,
    data            bytea NOT NULL,
    source_event_id text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX events_workspace ON events (workspace_id, id);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    event_id        text NOT NULL REFERENCES events (id),
    subscription_id text NOT NULL REFERENCES subscriptions (id),
    event_type      text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    lease_owner     text,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- When a pending delivery can next be claimed: its attempt time, or the
    -- end of its lease while leased. Claims scan one index on it instead of
    -- skipping over every leased row.
    due_at          timestamptz GENERATED ALWAYS AS (
        CASE WHEN status = 'pending' THEN greatest(next_attempt_at, lease_until) END
    ) STORED
);
-- created_at rides along so PendingStats can be answered from the index.
CREATE INDEX deliveries_due ON deliveries (due_at) INCLUDE (created_at) WHERE status = 'pending';
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id, id);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);

-- response_body is bytea: receivers may answer with any bytes, which text
-- (UTF-8, no NUL) would reject.
CREATE TABLE attempts (
    id            text PRIMARY KEY,
    delivery_id   text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    at            timestamptz NOT NULL,
    status_code   integer NOT NULL,
    latency_ns    bigint NOT NULL,
    error_class   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    response_body bytea NOT NULL,
    UNIQUE (delivery_id, number)
);

CREATE TABLE idempotency_keys (
    workspace_id text NOT NULL REFERENCES workspaces (id),
    key          text NOT NULL,
    response_ids text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE leases (
    name  text PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE idempotency_keys;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE subscriptions;
DROP TABLE api_keys;
DROP TABLE workspaces;
