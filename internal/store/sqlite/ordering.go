package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"

	"github.com/revdesk/webhooks/internal/store"
)

// Ordered delivery (see store/ordering.go): a parked delivery is pending
// with due_at NULL. SQLite has one writer, so its transactions already
// serialize the writers of a key.

// busyKeys returns those of keys that have a pending delivery.
func busyKeys(ctx context.Context, tx *sql.Tx, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT order_key FROM deliveries
		WHERE status = 'pending' AND order_key IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var busy []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		busy = append(busy, k)
	}
	return busy, rows.Err()
}

// promote makes the oldest parked delivery of each key that has no head
// (no pending delivery with a due time) its head, due when it was due.
func promote(ctx context.Context, tx *sql.Tx, keys []string) error {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE deliveries SET due_at = next_attempt_at WHERE id IN (
			SELECT (SELECT p.id FROM deliveries p WHERE p.order_key = k.value AND p.status = 'pending'
				ORDER BY p.id LIMIT 1)
			FROM json_each(?) k
			WHERE NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.order_key = k.value
				AND h.status = 'pending' AND h.due_at IS NOT NULL))`, string(list))
	return err
}

// keyedRows collects the non-NULL order keys of rows returned by a query.
func keyedRows(rows *sql.Rows, err error) ([]string, error) {
	var n int64
	return countRows(rows, err, &n)
}

// countRows collects the non-NULL order keys of rows returned by a query
// and counts every row into n.
func countRows(rows *sql.Rows, err error, n *int64) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k sql.NullString
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		*n++
		if k.Valid {
			keys = append(keys, k.String)
		}
	}
	return keys, rows.Err()
}

// keyed is a delivery of an Ingest call that has an order key: where its
// row's values start in ingester.deliveries, and its job.
type keyed struct {
	key    string
	values int
	req    int
	job    int
}

// Offsets in a delivery row's values (see Store.init's insert columns).
const (
	deliveryDueCol   = 7
	deliveryOwnerCol = 8
	deliveryUntilCol = 9
)

// settleHeads parks every keyed delivery of the call that is not the head
// of its key and takes its job out of the results: it is claimed once the
// deliveries before it are final.
func (in *ingester) settleHeads(results []store.IngestResult) error {
	if len(in.keyed) == 0 {
		return nil
	}
	keys := make([]string, len(in.keyed))
	for i, k := range in.keyed {
		keys[i] = k.key
	}
	busy, err := busyKeys(in.ctx, in.tx, keys)
	if err != nil {
		return err
	}
	heads := store.NewHeads(busy)
	parked := map[store.JobRef]bool{}
	for _, k := range in.keyed {
		if heads.Take(k.key) {
			continue
		}
		in.deliveries[k.values+deliveryDueCol] = nil
		in.deliveries[k.values+deliveryOwnerCol] = nil
		in.deliveries[k.values+deliveryUntilCol] = nil
		parked[store.JobRef{Req: k.req, Job: k.job}] = true
	}
	store.RemoveJobs(results, parked)
	return nil
}
