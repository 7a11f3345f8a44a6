package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/store"
)

// AllSubscriptions implements store.SecretsRewriter.
func (s *Store) AllSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY id`)
	return rowsOf(rows, err, scanSubscription)
}

// RewriteSecrets implements store.SecretsRewriter, in one transaction.
func (s *Store) RewriteSecrets(ctx context.Context, subs []store.Subscription) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i := range subs {
			sub := &subs[i]
			b.Queue(`UPDATE subscriptions SET signing_secret = $2, previous_secret = $3, options = $4 WHERE id = $1`,
				sub.ID, sub.SigningSecret, sub.PreviousSecret, store.OptionsColumn{Sub: sub})
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
