package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/store"
)

// Ordered delivery (see store/ordering.go): a parked delivery has a queue
// row with parked set, which makes its due_at NULL, so claims never see it.
// The writers of a key in any process serialize on a transaction advisory
// lock of the key (store.LockIDs order), taken before they read which
// deliveries of the key are pending.

// lockKeysSQL takes the advisory locks of $1 in array order.
const lockKeysSQL = `SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, o)`

// busyKeysSQL returns those of the keys $1 that have a pending delivery.
const busyKeysSQL = `SELECT DISTINCT order_key FROM delivery_queue WHERE order_key = ANY ($1::text[])`

// promoteSQL unparks the oldest delivery of each key of $1 that has no
// unparked (head) delivery left.
const promoteSQL = `UPDATE delivery_queue SET parked = false WHERE delivery_id IN (
		SELECT (SELECT p.delivery_id FROM delivery_queue p WHERE p.order_key = k
			ORDER BY p.created_at, p.delivery_id LIMIT 1)
		FROM unnest($1::text[]) AS k
		WHERE NOT EXISTS (SELECT 1 FROM delivery_queue h WHERE h.order_key = k AND NOT h.parked))`

// uniqueKeys sorts and dedupes keys, dropping empty ones.
func uniqueKeys(keys []string) []string {
	keys = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "" })
	slices.Sort(keys)
	return slices.Compact(keys)
}

// lockKeys takes the advisory locks of keys in tx.
func lockKeys(ctx context.Context, tx dbtx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, lockKeysSQL, store.LockIDs(keys))
	return err
}

// settleKeys locks keys and promotes a head for each that has none: what
// every writer that ended or parked keyed deliveries does before commit.
func settleKeys(ctx context.Context, tx dbtx, keys []string) error {
	keys = uniqueKeys(keys)
	if len(keys) == 0 {
		return nil
	}
	if err := lockKeys(ctx, tx, keys); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, promoteSQL, keys)
	return err
}

// parkNonHeads decides which keyed deliveries of an Ingest call are heads,
// under the keys' locks: keys[i] is delivery i's key ("" for none), and the
// result tells which are parked.
func parkNonHeads(ctx context.Context, tx dbtx, keys []string) ([]bool, error) {
	parked := make([]bool, len(keys))
	unique := uniqueKeys(keys)
	if len(unique) == 0 {
		return parked, nil
	}
	if err := lockKeys(ctx, tx, unique); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, busyKeysSQL, unique)
	busy, err := rowsOf(rows, err, func(r pgx.Row) (k string, err error) { return k, r.Scan(&k) })
	if err != nil {
		return nil, err
	}
	heads := store.NewHeads(busy)
	for i, k := range keys {
		parked[i] = !heads.Take(k)
	}
	return parked, nil
}
