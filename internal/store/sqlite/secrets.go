package sqlite

import (
	"context"
	"database/sql"

	"github.com/revdesk/webhooks/internal/store"
)

// AllSubscriptions implements store.SecretsRewriter.
func (s *Store) AllSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var subs []store.Subscription
	for rows.Next() {
		sub, _, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, translate(rows.Err())
}

// RewriteSecrets implements store.SecretsRewriter, in one transaction.
func (s *Store) RewriteSecrets(ctx context.Context, rewrites []store.SecretRewrite) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i := range rewrites {
			was, now := &rewrites[i].Old, &rewrites[i].New
			if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET signing_secret = ?, previous_secret = ?, options = ?
				WHERE id = ? AND signing_secret = ? AND previous_secret = ? AND options = ?`,
				now.SigningSecret, now.PreviousSecret, store.OptionsColumn{Sub: now}, now.ID,
				was.SigningSecret, was.PreviousSecret, store.OptionsColumn{Sub: was}); err != nil {
				return err
			}
		}
		return nil
	})
}
