-- The event log filtered by type, newest first, on a large history (issue
-- 18). The delivery log's queries (a subscription's deliveries by status,
-- failed since T, one event's deliveries) are id ranges of the existing
-- (subscription_id, id), (workspace_id, id) and (event_id) indexes: an
-- index holding status would be rewritten by every completion.

-- +goose Up
CREATE INDEX events_type ON events (workspace_id, event_type, id);

-- +goose Down
DROP INDEX events_type;
