-- A delivery's first attempt is kept in its own row: most deliveries succeed
-- at once, and writing the attempt with the completion's update instead of
-- as an attempts row saves an insert (and an index entry) per delivery.
-- Later attempts, and first attempts recorded before this migration, are
-- rows of attempts.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN first_attempt_id TEXT;
ALTER TABLE deliveries ADD COLUMN first_at INTEGER;
ALTER TABLE deliveries ADD COLUMN first_status_code INTEGER;
ALTER TABLE deliveries ADD COLUMN first_latency_ns INTEGER;
ALTER TABLE deliveries ADD COLUMN first_error_class TEXT;
ALTER TABLE deliveries ADD COLUMN first_error TEXT;
ALTER TABLE deliveries ADD COLUMN first_response_body BLOB;

-- +goose Down
INSERT INTO attempts (delivery_id, number, id, at, status_code, latency_ns, error_class, error, response_body)
    SELECT id, 1, first_attempt_id, first_at, first_status_code, first_latency_ns, first_error_class,
        first_error, first_response_body
    FROM deliveries WHERE first_at IS NOT NULL;
ALTER TABLE deliveries DROP COLUMN first_response_body;
ALTER TABLE deliveries DROP COLUMN first_error;
ALTER TABLE deliveries DROP COLUMN first_error_class;
ALTER TABLE deliveries DROP COLUMN first_latency_ns;
ALTER TABLE deliveries DROP COLUMN first_status_code;
ALTER TABLE deliveries DROP COLUMN first_at;
ALTER TABLE deliveries DROP COLUMN first_attempt_id;
