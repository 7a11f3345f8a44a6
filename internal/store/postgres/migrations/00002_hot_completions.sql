-- +goose Up
-- Completing a delivery rewrites its row once (twice or more for retries).
-- At fillfactor 70 a page of freshly ingested deliveries has room for the
-- new versions of only about 40% of its rows, so most completions were not
-- heap-only: each put a new entry in all four indexes (and in the WAL) and
-- bloated them. Half-full pages fit a new version of every row; pruning
-- reclaims the old ones later.
ALTER TABLE deliveries SET (fillfactor = 50);

-- +goose Down
ALTER TABLE deliveries SET (fillfactor = 70);
