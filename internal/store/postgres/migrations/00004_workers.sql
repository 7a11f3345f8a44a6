-- +goose Up
-- One row per running process: it renews alive_until every second or so.
-- A row left to expire belongs to a process that died; any other process
-- then hands the deliveries leased to it back (ReapWorkers), so they wait
-- seconds for a new sender instead of the end of their leases.
CREATE TABLE workers (
    owner       text COLLATE "C" PRIMARY KEY,
    alive_until timestamptz NOT NULL
);

-- +goose Down
DROP TABLE workers;
