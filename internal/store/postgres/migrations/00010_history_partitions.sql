-- History in time-range partitions (issue 18). events, deliveries and
-- attempts become tables partitioned by range of id (attempts by
-- delivery_id). Ids start with their creation millisecond (internal/ids)
-- and sort in byte order under the "C" collation, so an id range is a time
-- range, and every lookup by id (GetDelivery, a claim's join, a
-- completion's update) is pruned to one partition: partitioning by
-- created_at would have made each of those probe every partition's index,
-- since the primary key would have had to become (id, created_at).
-- Retention then drops whole partitions (store/postgres/partitions.go)
-- instead of deleting rows.
--
-- An existing table is not copied: it is renamed and attached as the first
-- partition, covering every id from the lowest up to the next UTC midnight;
-- ATTACH checks its rows against that bound with one sequential scan and
-- adopts its matching indexes, so only the indexes new here are built over
-- the old rows. Later partitions (a day each by default) are created ahead
-- by maintenance; a default partition catches a row no partition covers
-- (a clock far ahead) so ingest never fails for want of one.
--
-- The parents are made LIKE the old tables, so columns that other
-- migrations added come along in their order.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION pg_temp.revdesk_id_floor(prefix text, t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    -- The smallest id of that prefix made at t (ids.Floor): the 48-bit
    -- millisecond in base32 with internal/ids' alphabet, then zero bits.
    SELECT prefix || '_' || string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz',
            (((floor(extract(epoch FROM t) * 1000)::bigint << 2) >> (45 - 5 * i)) & 31)::int + 1, 1), ''
            ORDER BY i) || repeat('0', 19)
    FROM generate_series(0, 9) AS i
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    bound timestamptz := date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day';
    t record;
    hi text;
    top text;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('events', 'id', 'evt'), ('deliveries', 'id', 'dlv'),
            ('attempts', 'delivery_id', 'dlv')) AS v(name, col, prefix) LOOP
        hi := pg_temp.revdesk_id_floor(t.prefix, bound);
        EXECUTE format('SELECT max(%I) FROM %I', t.col, t.name) INTO top;
        IF top >= hi THEN
            RAISE EXCEPTION '% holds ids from the future (% >= %): fix the clock first', t.name, top, hi;
        END IF;
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t.name, t.name || '_first');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL) PARTITION BY RANGE (%I)',
            t.name, t.name || '_first', t.col);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)',
            t.name, t.name || '_first', hi);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t.name || '_default', t.name);
    END LOOP;
END $$;
-- +goose StatementEnd

-- Completions are heap-only updates (00002): the fresh partitions keep the
-- room on each page for a new version of every row.
ALTER TABLE deliveries_default SET (fillfactor = 50);

-- Retention no longer scans by creation time.
DROP INDEX IF EXISTS events_created_at_idx;

-- The delivery log's queries on a large history. None of these indexes
-- holds status: completions change it, and an indexed status would end
-- heap-only completions (every completion would write a new entry into
-- every index). Status filters read the rows an id-ordered index range
-- leads to.
-- The event log by type, newest first.
CREATE INDEX events_type ON events (workspace_id, event_type, id);
-- A subscription's deliveries by status and time, failed deliveries since
-- T and one event's deliveries are id ranges of the existing (subscription_id,
-- id), (workspace_id, id) and (event_id, id) indexes, within the partitions
-- of that time.

-- +goose Down
-- History stays partitioned: going back would copy every row.
SELECT 1;
