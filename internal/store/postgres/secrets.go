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
func (s *Store) RewriteSecrets(ctx context.Context, rewrites []store.SecretRewrite) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i := range rewrites {
			was, now := &rewrites[i].Old, &rewrites[i].New
			b.Queue(`UPDATE subscriptions SET signing_secret = $2, previous_secret = $3, options = $4
				WHERE id = $1 AND signing_secret = $5 AND previous_secret = $6 AND options = $7`,
				now.ID, now.SigningSecret, now.PreviousSecret, store.OptionsColumn{Sub: now},
				was.SigningSecret, was.PreviousSecret, store.OptionsColumn{Sub: was})
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
