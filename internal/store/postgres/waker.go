package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify wakes the listeners of every process sharing the schema.
func (s *Store) Notify(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, s.channel)
	return translate(err)
}

// Reconnection backoff of Listen: doubling from min to max, with jitter so
// that processes do not reconnect in step after a server restart.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
)

// Listen calls onWake for each notification, on a connection of its own
// (LISTEN ties up a session, so it cannot use the pool). When the connection
// breaks it reconnects with backoff and calls onWake once connected again,
// since notifications sent meanwhile are lost. It returns nil when ctx ends.
func (s *Store) Listen(ctx context.Context, onWake func()) error {
	backoff := listenMinBackoff
	for {
		s.listenOnce(ctx, onWake, func() { backoff = listenMinBackoff })
		if ctx.Err() != nil {
			return nil
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce listens until the connection fails or ctx ends, calling
// connected once LISTEN is in place.
func (s *Store) listenOnce(ctx context.Context, onWake, connected func()) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) // the session is being abandoned either way
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return
	}
	connected()
	onWake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		onWake()
	}
}
