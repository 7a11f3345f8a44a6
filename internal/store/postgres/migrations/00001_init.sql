-- +goose Up
-- Identifiers and keys use the "C" collation: byte order is the ids' time
-- order, and index comparisons skip the locale's rules (costly under e.g.
-- en_US.UTF-8).
CREATE TABLE workspaces (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL REFERENCES workspaces (id),
    hash         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Unscoped and secretless columns hold '' rather than NULL so equality in
-- the uniqueness rule and in routing needs no NULL handling.
CREATE TABLE subscriptions (
    id                text COLLATE "C" PRIMARY KEY,
    workspace_id      text COLLATE "C" NOT NULL REFERENCES workspaces (id),
    webhook_url       text COLLATE "C" NOT NULL,
    event_type        text COLLATE "C" NOT NULL,
    workflow_id       text COLLATE "C" NOT NULL DEFAULT '',
    campaign_id       text COLLATE "C" NOT NULL DEFAULT '',
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

-- The hot path (events, deliveries, delivery_queue, attempts,
-- idempotency_keys) has no foreign keys: the store alone writes it, for
-- workspaces the caller authenticated, events it inserts in the same
-- transaction, subscriptions it has just read and deliveries it has just
-- updated. A key check costs a trigger per row and takes share locks on the
-- few hot parent rows (the workspace, its subscriptions) from every
-- concurrent ingest.

-- data is bytea: the exact bytes received must be delivered (jsonb would
-- reorder keys and respell numbers).
CREATE TABLE events (
    id              text COLLATE "C" PRIMARY KEY,
    workspace_id    text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    workflow_id     text COLLATE "C" NOT NULL DEFAULT '',
    campaign_id     text COLLATE "C" NOT NULL DEFAULT '',
    occurred_at     timestamptz NOT NULL,
    data            bytea NOT NULL,
    source_event_id text COLLATE "C" NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX events_workspace ON events (workspace_id, id);
CREATE INDEX events_created ON events (created_at);

-- Pending deliveries also have a row in delivery_queue, which holds what
-- claiming needs (due time, lease). Deliveries' indexed columns then never
-- change, so completing one is a heap-only update (fillfactor leaves room
-- on the page), and the queue's small rows take the index churn.
CREATE TABLE deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    workspace_id    text COLLATE "C" NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    subscription_id text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
) WITH (fillfactor = 70);
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id, id);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);

-- One row per pending delivery: present exactly while deliveries.status is
-- 'pending'.
CREATE TABLE delivery_queue (
    delivery_id     text COLLATE "C" PRIMARY KEY,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text COLLATE "C",
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL, -- the delivery's, for PendingStats
    -- When the delivery can next be claimed: its attempt time, or the end
    -- of its lease while leased, so claims scan one index and never step
    -- over leased rows.
    due_at          timestamptz GENERATED ALWAYS AS (greatest(next_attempt_at, lease_until)) STORED
) WITH (
    -- Rows come and go constantly: keep statistics (which steer claims) and
    -- vacuuming current by row counts, not table size.
    autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000
);
CREATE INDEX delivery_queue_due ON delivery_queue (due_at);

-- response_body is bytea: receivers may answer with any bytes, which text
-- (UTF-8, no NUL) would reject. Keyed by delivery and number, the way they
-- are read.
CREATE TABLE attempts (
    delivery_id   text COLLATE "C" NOT NULL,
    number        integer NOT NULL,
    id            text COLLATE "C" NOT NULL,
    at            timestamptz NOT NULL,
    status_code   integer NOT NULL,
    latency_ns    bigint NOT NULL,
    error_class   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    response_body bytea NOT NULL,
    PRIMARY KEY (delivery_id, number)
);

CREATE TABLE idempotency_keys (
    workspace_id text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    response_ids text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE leases (
    name  text COLLATE "C" PRIMARY KEY,
    owner text COLLATE "C" NOT NULL,
    until timestamptz NOT NULL
);

-- +goose Down
DROP TABLE delivery_queue;
DROP TABLE leases;
DROP TABLE idempotency_keys;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE subscriptions;
DROP TABLE api_keys;
DROP TABLE workspaces;
