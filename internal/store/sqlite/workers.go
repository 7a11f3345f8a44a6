package sqlite

import (
	"context"
	"database/sql"
	"time"
)

func (s *Store) RenewWorker(ctx context.Context, owner string, until time.Time) (bool, error) {
	var continued bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE workers SET alive_until = ?2 WHERE owner = ?1`, owner, ns(until))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			continued = n == 1
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO workers (owner, alive_until) VALUES (?1, ?2)`, owner, ns(until))
		return err
	})
	return continued, err
}

func (s *Store) ReapWorkers(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL,
			due_at = next_attempt_at
			WHERE status = 'pending' AND lease_owner IN (SELECT owner FROM workers WHERE alive_until < ?1)`, ns(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM workers WHERE alive_until < ?1`, ns(now))
		return err
	})
	return int(n), err
}

func (s *Store) RetireWorker(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL,
			due_at = next_attempt_at WHERE status = 'pending' AND lease_owner = ?1`, owner)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM workers WHERE owner = ?1`, owner)
		return err
	})
	return int(n), err
}
