package sqlite

import (
	"context"
	"time"
)

// LiveWorkers counts the processes whose liveness record is current (one,
// at most, on SQLite): the rate limits of subscriptions are divided between
// them.
func (s *Store) LiveWorkers(ctx context.Context, at time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM workers WHERE alive_until >= ?`, ns(at)).Scan(&n)
	return n, translate(err)
}
