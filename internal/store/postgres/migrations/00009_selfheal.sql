-- Self-healing: the failure streak's length, automatic recovery (who
-- disabled a subscription, its probes, where what it missed starts) and
-- replays (a delivery made by one names it).

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN failures integer NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN auto_recover boolean NOT NULL DEFAULT true;
ALTER TABLE subscriptions ADD COLUMN disabled_kind text NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN next_probe_at timestamptz;
ALTER TABLE subscriptions ADD COLUMN probes integer NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN probe_delivery_id text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN recover_since timestamptz;
CREATE INDEX subscriptions_probe ON subscriptions (next_probe_at) WHERE next_probe_at IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN replay_id text COLLATE "C";
CREATE INDEX deliveries_replay ON deliveries (replay_id, status) WHERE replay_id IS NOT NULL;

CREATE TABLE replays (
    id              text COLLATE "C" PRIMARY KEY,
    workspace_id    text COLLATE "C" NOT NULL REFERENCES workspaces (id),
    subscription_id text COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    since           timestamptz NOT NULL,
    until           timestamptz,
    mode            text NOT NULL,
    by              text NOT NULL,
    cursor          text COLLATE "C" NOT NULL DEFAULT '', -- the last original delivery replayed
    queued          integer NOT NULL DEFAULT 0,
    done_at         timestamptz,
    created_at      timestamptz NOT NULL
);
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
