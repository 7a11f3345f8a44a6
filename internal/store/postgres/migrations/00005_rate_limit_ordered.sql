-- Per-subscription rate limit (deliveries per second, 0 for none) and opt-in
-- ordered delivery. A delivery of an ordered subscription carries its order
-- key (store.OrderKey), kept in deliveries (a retry queues it again) and in
-- its queue row. Of the queue rows of one key only the head is claimable;
-- the others are parked (due_at NULL) until the head is final.

-- +goose Up
ALTER TABLE subscriptions
    ADD COLUMN rate_limit double precision NOT NULL DEFAULT 0,
    ADD COLUMN ordered boolean NOT NULL DEFAULT false;
ALTER TABLE deliveries ADD COLUMN order_key text COLLATE "C";
ALTER TABLE delivery_queue
    ADD COLUMN order_key text COLLATE "C",
    ADD COLUMN parked boolean NOT NULL DEFAULT false,
    DROP COLUMN due_at;
ALTER TABLE delivery_queue ADD COLUMN due_at timestamptz
    GENERATED ALWAYS AS (CASE WHEN parked THEN NULL ELSE greatest(next_attempt_at, lease_until) END) STORED;
CREATE INDEX delivery_queue_due ON delivery_queue (due_at);
CREATE INDEX delivery_queue_order ON delivery_queue (order_key, created_at, delivery_id)
    WHERE order_key IS NOT NULL;

-- +goose Down
DROP INDEX delivery_queue_order;
ALTER TABLE delivery_queue DROP COLUMN due_at;
ALTER TABLE delivery_queue DROP COLUMN parked, DROP COLUMN order_key;
ALTER TABLE delivery_queue ADD COLUMN due_at timestamptz
    GENERATED ALWAYS AS (greatest(next_attempt_at, lease_until)) STORED;
CREATE INDEX delivery_queue_due ON delivery_queue (due_at);
ALTER TABLE deliveries DROP COLUMN order_key;
ALTER TABLE subscriptions DROP COLUMN ordered, DROP COLUMN rate_limit;
