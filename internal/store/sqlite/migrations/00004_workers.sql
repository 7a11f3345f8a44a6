-- +goose Up
-- One row per running process, renewed while it runs (see the PostgreSQL
-- migration of the same number; SQLite serves one process, so the row is
-- only kept for the same behaviour on both engines).
CREATE TABLE workers (
    owner       TEXT PRIMARY KEY,
    alive_until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE workers;
