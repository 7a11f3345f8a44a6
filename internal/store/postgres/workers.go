package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

func (s *Store) RenewWorker(ctx context.Context, owner string, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE workers SET alive_until = $2 WHERE owner = $1`, owner, until)
	if err != nil {
		return false, translate(err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO workers (owner, alive_until) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until`, owner, until)
	return false, translate(err)
}

// ReapWorkers scans the queue for the dead owners' rows (no index on
// lease_owner: it would cost every claim and completion a write, and a
// process dies rarely).
func (s *Store) ReapWorkers(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM workers WHERE alive_until < $1 RETURNING owner`, now)
		if err != nil {
			return err
		}
		dead, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(dead) == 0 {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE delivery_queue SET lease_owner = NULL, lease_until = NULL
			WHERE lease_owner = ANY($1)`, dead)
		n = int(tag.RowsAffected())
		return err
	})
	return n, translate(err)
}

func (s *Store) RetireWorker(ctx context.Context, owner string) (int, error) {
	tag, err := s.pool.Exec(ctx, `WITH w AS (DELETE FROM workers WHERE owner = $1)
		UPDATE delivery_queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, owner)
	return int(tag.RowsAffected()), translate(err)
}
