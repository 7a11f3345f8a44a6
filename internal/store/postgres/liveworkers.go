package postgres

import (
	"context"
	"time"
)

// LiveWorkers counts the processes whose liveness record is current: the
// rate limits of subscriptions are divided between them.
func (s *Store) LiveWorkers(ctx context.Context, at time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM workers WHERE alive_until >= $1`, at).Scan(&n)
	return n, translate(err)
}
