-- Per-subscription delivery options (issue 17). A multi-type subscription
-- has event_type '*' and its types in event_types (",a,b," or ",*,": a
-- substring search of ",type," finds it); options is the JSON of its custom
-- headers, filter and client certificate (store.OptionsColumn), "" for none.
-- Secret values inside it are sealed by package secrets before they get here.

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN event_types TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN options TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN options;
ALTER TABLE subscriptions DROP COLUMN event_types;
