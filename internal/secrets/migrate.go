package secrets

import (
	"context"
	"fmt"

	"github.com/revdesk/webhooks/internal/store"
)

// Migrate seals every secret stored in clear (a database from before
// encryption) and re-seals those sealed with another key than the first
// (a rotation), and returns how many subscriptions it rewrote. It fails,
// changing nothing, when a secret is sealed with a key the keyring lacks.
// The server runs it at every start; run again it finds nothing to do. A
// subscription changed meanwhile by another process (PostgreSQL) keeps
// that change: the rewrite only lands on the row as it was read.
func Migrate(ctx context.Context, st store.SecretsRewriter, k *Keyring) (int, error) {
	subs, err := st.AllSubscriptions(ctx)
	if err != nil {
		return 0, err
	}
	var changed []store.SecretRewrite
	for _, sub := range subs {
		old := sub
		dirty := false
		reseal := func(v *string) error {
			if k.Current(*v) {
				return nil
			}
			plain, err := k.Open(*v)
			if err != nil {
				return fmt.Errorf("subscription %s: %w", sub.ID, err)
			}
			*v, dirty = k.Seal(plain), true
			return nil
		}
		for _, p := range []*string{&sub.SigningSecret, &sub.PreviousSecret, &sub.ClientKey} {
			if err := reseal(p); err != nil {
				return 0, err
			}
		}
		sub.Headers = append([]store.Header(nil), sub.Headers...)
		for i := range sub.Headers {
			if sub.Headers[i].Secret {
				if err := reseal(&sub.Headers[i].Value); err != nil {
					return 0, err
				}
			}
		}
		if dirty {
			changed = append(changed, store.SecretRewrite{Old: old, New: sub})
		}
	}
	if len(changed) == 0 {
		return 0, nil
	}
	return len(changed), st.RewriteSecrets(ctx, changed)
}
