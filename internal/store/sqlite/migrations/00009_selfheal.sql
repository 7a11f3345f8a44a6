-- Self-healing: the failure streak's length, automatic recovery (who
-- disabled a subscription, its probes, where what it missed starts) and
-- replays (a delivery made by one names it).

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN auto_recover INTEGER NOT NULL DEFAULT 1;
ALTER TABLE subscriptions ADD COLUMN disabled_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN next_probe_at INTEGER;
ALTER TABLE subscriptions ADD COLUMN probes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN probe_delivery_id TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN recover_since INTEGER;
CREATE INDEX subscriptions_probe ON subscriptions (next_probe_at) WHERE next_probe_at IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN replay_id TEXT;
CREATE INDEX deliveries_replay ON deliveries (replay_id, status) WHERE replay_id IS NOT NULL;

CREATE TABLE replays (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    since           INTEGER NOT NULL,
    until           INTEGER,
    mode            TEXT NOT NULL,
    by              TEXT NOT NULL,
    cursor          TEXT NOT NULL DEFAULT '', -- the last original delivery replayed
    queued          INTEGER NOT NULL DEFAULT 0,
    done_at         INTEGER,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX replays_running ON replays (created_at) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE replays;
DROP INDEX deliveries_replay;
ALTER TABLE deliveries DROP COLUMN replay_id;
DROP INDEX subscriptions_probe;
ALTER TABLE subscriptions DROP COLUMN recover_since;
ALTER TABLE subscriptions DROP COLUMN probe_delivery_id;
ALTER TABLE subscriptions DROP COLUMN probes;
ALTER TABLE subscriptions DROP COLUMN next_probe_at;
ALTER TABLE subscriptions DROP COLUMN disabled_kind;
ALTER TABLE subscriptions DROP COLUMN auto_recover;
ALTER TABLE subscriptions DROP COLUMN failures;
