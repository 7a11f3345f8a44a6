-- Per-subscription rate limit (deliveries per second, 0 for none) and opt-in
-- ordered delivery. A delivery of an ordered subscription carries its order
-- key (store.OrderKey); of the pending deliveries of one key only the head
-- has a due_at, the others are parked (due_at NULL) until it is final.

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN rate_limit REAL NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN order_key TEXT;
-- The pending deliveries of a key, oldest first (the table's key, the id,
-- follows the indexed column and is in acceptance order in the one process
-- SQLite serves): the head check at ingest and the promotion after a final
-- outcome. Keys are random, so each insert lands on its own page: the entry
-- is kept small.
CREATE INDEX deliveries_order ON deliveries (order_key)
    WHERE status = 'pending' AND order_key IS NOT NULL;

-- +goose Down
DROP INDEX deliveries_order;
ALTER TABLE deliveries DROP COLUMN order_key;
ALTER TABLE subscriptions DROP COLUMN ordered;
ALTER TABLE subscriptions DROP COLUMN rate_limit;
