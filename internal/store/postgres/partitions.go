package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

// History (events, deliveries, attempts) is partitioned by range of id
// (attempts by delivery_id): see migration 00010 for why by id. Each range
// is [ids.Floor(From), ids.Floor(To)), so the bounds in the catalog are the
// partitions' times. The three tables get the same time ranges, so a day's
// attempts go with its deliveries.

var _ store.Partitioned = (*Store)(nil)

// historyTable is one partitioned table: its partition key and the id
// prefix of its bounds.
type historyTable struct {
	name, key, prefix string
	// options of its partitions (deliveries keep room for heap-only
	// completions, as migration 00002 set).
	with string
}

var historyTables = []historyTable{
	{name: "events", key: "id", prefix: ids.Event},
	{name: "deliveries", key: "id", prefix: ids.Delivery, with: " WITH (fillfactor = 50)"},
	{name: "attempts", key: "delivery_id", prefix: ids.Delivery},
}

// lockTimeout bounds how long creating or dropping a partition waits for
// its locks: while it waits, statements on the table queue behind it, so a
// long wait would stall ingest. A round that times out is retried on the
// next one.
const lockTimeout = `SELECT set_config('lock_timeout', '250ms', true)`

// partition is one partition of a history table.
type partition struct {
	name     string
	from, to string // bounds (ids); from is "" for MINVALUE
	tuples   int    // the planner's row count
}

var boundRE = regexp.MustCompile(`^FOR VALUES FROM \((?:'([^']*)'|MINVALUE)\) TO \('([^']*)'\)$`)

// partitions lists the range partitions of a table, oldest first (the
// default partition is not one).
func (s *Store) partitions(ctx context.Context, q pgx.Tx, table string) ([]partition, error) {
	var rows pgx.Rows
	var err error
	query := `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)
		  AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'`
	if q != nil {
		rows, err = q.Query(ctx, query, table)
	} else {
		rows, err = s.pool.Query(ctx, query, table)
	}
	list, err := rowsOf(rows, err, func(r pgx.Row) (partition, error) {
		var p partition
		var bound string
		if err := r.Scan(&p.name, &bound, &p.tuples); err != nil {
			return p, err
		}
		m := boundRE.FindStringSubmatch(bound)
		if m == nil {
			return p, fmt.Errorf("postgres: partition %s: unexpected bound %q", p.name, bound)
		}
		p.from, p.to = m[1], m[2]
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	// Ids sort in time order, MINVALUE ("") first.
	slices.SortFunc(list, func(a, b partition) int { return strings.Compare(a.from, b.from) })
	return list, nil
}

// boundTime is the time an id bound stands for.
func boundTime(bound string) (time.Time, error) {
	t, ok := ids.Time(bound)
	if !ok {
		return time.Time{}, fmt.Errorf("postgres: partition bound %q is not an id", bound)
	}
	return t, nil
}

func (s *Store) Partitions(ctx context.Context) ([]store.Partition, error) {
	list, err := s.partitions(ctx, nil, "deliveries")
	if err != nil {
		return nil, err
	}
	out := make([]store.Partition, 0, len(list))
	for _, p := range list {
		var part store.Partition
		if part.To, err = boundTime(p.to); err != nil {
			return nil, err
		}
		if p.from != "" {
			from, err := boundTime(p.from)
			if err != nil {
				return nil, err
			}
			part.From = &from
		}
		out = append(out, part)
	}
	return out, nil
}

// EnsurePartitions extends each history table from the end of its newest
// partition: if that end lies more than an interval behind p.Now (a
// database left idle), one partition spans the gap up to p.Now's interval;
// then one per interval through p.Now + p.Ahead. Each is created empty and
// attached (a lighter lock on the table than CREATE ... PARTITION OF), after
// moving in any rows the default partition caught for its range.
func (s *Store) EnsurePartitions(ctx context.Context, p store.PartitionParams) (int, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return 0, err
	}
	if p.Interval < time.Minute {
		return 0, fmt.Errorf("postgres: partition interval %s: at least a minute", p.Interval)
	}
	if p.Ahead < 0 {
		return 0, errors.New("postgres: partitions ahead: not negative")
	}
	start := p.Now.UTC().Truncate(p.Interval)
	until := p.Now.Add(p.Ahead)
	created := 0
	for _, table := range historyTables {
		list, err := s.partitions(ctx, nil, table.name)
		if err != nil {
			return created, err
		}
		if len(list) == 0 {
			return created, fmt.Errorf("postgres: %s is not partitioned (migration 00010)", table.name)
		}
		from, err := boundTime(list[len(list)-1].to)
		if err != nil {
			return created, err
		}
		for !from.After(until) {
			to := from.Truncate(p.Interval).Add(p.Interval)
			if to.Before(start) {
				to = start // the gap
			}
			if err := s.createPartition(ctx, table, from, to); err != nil {
				return created, err
			}
			created++
			from = to
		}
	}
	return created, nil
}

// partitionName names a partition after the start of its range.
func partitionName(table string, from time.Time) string {
	return table + "_" + from.UTC().Format("20060102t150405")
}

func (s *Store) createPartition(ctx context.Context, table historyTable, from, to time.Time) error {
	name := pgx.Identifier{partitionName(table.name, from)}.Sanitize()
	parent := pgx.Identifier{table.name}.Sanitize()
	def := pgx.Identifier{table.name + "_default"}.Sanitize()
	key := pgx.Identifier{table.key}.Sanitize()
	lo, hi := ids.Floor(table.prefix, from), ids.Floor(table.prefix, to)
	return s.tx(ctx, func(tx pgx.Tx) error {
		stmts := []struct {
			sql  string
			args []any
		}{
			{lockTimeout, nil},
			{`CREATE TABLE ` + name + ` (LIKE ` + parent + ` INCLUDING DEFAULTS INCLUDING CONSTRAINTS
				INCLUDING GENERATED)` + table.with, nil},
			// Normally none: rows land here only when the clock ran past
			// every partition.
			{`WITH m AS (DELETE FROM ` + def + ` WHERE ` + key + ` >= $1 AND ` + key + ` < $2 RETURNING *)
				INSERT INTO ` + name + ` SELECT * FROM m`, []any{lo, hi}},
			{`ALTER TABLE ` + parent + ` ATTACH PARTITION ` + name + ` FOR VALUES FROM ('` + lo + `') TO ('` + hi + `')`, nil},
		}
		for _, st := range stmts {
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("postgres: partition %s: %w", name, err)
			}
		}
		return nil
	})
}

// dropHistory drops the partitions that end at or before the cutoff:
// deliveries' (with the attempts' of the same range) when no delivery in
// them is pending, then events' when no delivery left refers to their
// events. A drop runs under an exclusive lock on its tables, taken only
// when something is free to drop and checked again under it, so no
// delivery of a partition can turn pending (a retry) between the check and
// the drop; it takes the locks in the order the writers of those tables do
// (deliveries, then attempts; events alone) so they cannot deadlock, and
// waits for them at most lockTimeout (an error: the next round tries again).
func (s *Store) dropHistory(ctx context.Context, before time.Time) (store.PruneResult, error) {
	var res store.PruneResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		dl, err := s.partitions(ctx, tx, "deliveries")
		if err != nil {
			return err
		}
		al, err := s.partitions(ctx, tx, "attempts")
		if err != nil {
			return err
		}
		attempts := map[string]partition{}
		for _, a := range al {
			attempts[a.from+" "+a.to] = a
		}
		// Pending work is looked for first without the lock, so a partition
		// that waits costs no exclusive lock every round; a partition
		// found free is checked again under it.
		pending := func(d partition) (int, *time.Time, error) {
			var n int
			var oldest *time.Time
			err := tx.QueryRow(ctx, `SELECT count(*), min(created_at) FROM delivery_queue
				WHERE delivery_id >= $1 AND delivery_id < $2`, d.from, d.to).Scan(&n, &oldest)
			return n, oldest, err
		}
		var free []partition
		for _, d := range dl {
			if to, err := boundTime(d.to); err != nil || to.After(before) {
				break // err: not ours to drop; later partitions end later
			}
			n, oldest, err := pending(d)
			if err != nil {
				return err
			}
			if n == 0 {
				free = append(free, d)
				continue
			}
			res.Blocked++
			if res.OldestBlocked == nil || oldest.Before(*res.OldestBlocked) {
				res.OldestBlocked = oldest
			}
		}
		if len(free) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, lockTimeout); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE deliveries, attempts IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		for _, d := range free {
			n, _, err := pending(d)
			if err != nil {
				return err
			}
			if n > 0 {
				continue // retried since: it waits for the next round
			}
			drop := []partition{d}
			if a, ok := attempts[d.from+" "+d.to]; ok {
				drop = append(drop, a)
			}
			for _, p := range drop {
				if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{p.name}.Sanitize()); err != nil {
					return err
				}
				res.Rows += p.tuples
			}
			res.Partitions++
		}
		return nil
	})
	if err != nil {
		return res, translate(err)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		el, err := s.partitions(ctx, tx, "events")
		if err != nil {
			return err
		}
		// Deliveries of these events in later partitions (a delivery made
		// for an old event) keep them. As above: looked for without the
		// lock, then again under it.
		needed := func(e partition) (bool, error) {
			lo := e.from
			if lo == "" {
				lo = ids.Event + "_"
			}
			var found bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries
				WHERE event_id >= $1 AND event_id < $2)`, lo, e.to).Scan(&found)
			return found, err
		}
		var free []partition
		for _, e := range el {
			if to, err := boundTime(e.to); err != nil || to.After(before) {
				break
			}
			found, err := needed(e)
			if err != nil {
				return err
			}
			if !found {
				free = append(free, e)
			}
		}
		if len(free) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, lockTimeout); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		for _, e := range free {
			found, err := needed(e)
			if err != nil {
				return err
			}
			if found {
				continue
			}
			if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{e.name}.Sanitize()); err != nil {
				return err
			}
			res.Rows += e.tuples
		}
		return nil
	})
	return res, translate(err)
}
