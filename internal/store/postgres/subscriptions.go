package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

const subscriptionColumns = `id, workspace_id, webhook_url, event_type, workflow_id, campaign_id,
	signing_secret, previous_secret, previous_until, standard_webhooks, status, disabled_reason,
	failing_since, created_at, updated_at, rate_limit, ordered, event_types, options, failures, auto_recover,
	disabled_kind, next_probe_at, probes, probe_delivery_id, recover_since`

// subscriptionColumnsOf is subscriptionColumns qualified with a table alias.
func subscriptionColumnsOf(alias string) string {
	return fmt.Sprintf(`%[1]s.id, %[1]s.workspace_id, %[1]s.webhook_url, %[1]s.event_type,
	%[1]s.workflow_id, %[1]s.campaign_id, %[1]s.signing_secret, %[1]s.previous_secret,
	%[1]s.previous_until, %[1]s.standard_webhooks, %[1]s.status, %[1]s.disabled_reason,
	%[1]s.failing_since, %[1]s.created_at, %[1]s.updated_at, %[1]s.rate_limit, %[1]s.ordered,
	%[1]s.event_types, %[1]s.options, %[1]s.failures, %[1]s.auto_recover, %[1]s.disabled_kind,
	%[1]s.next_probe_at, %[1]s.probes, %[1]s.probe_delivery_id, %[1]s.recover_since`, alias)
}

func subscriptionDest(sub *store.Subscription) []any {
	return []any{&sub.ID, &sub.WorkspaceID, &sub.WebhookURL, &sub.EventType, &sub.WorkflowID,
		&sub.CampaignID, &sub.SigningSecret, &sub.PreviousSecret, &sub.PreviousUntil,
		&sub.StandardWebhooks, &sub.Status, &sub.DisabledReason, &sub.FailingSince,
		&sub.CreatedAt, &sub.UpdatedAt, &sub.RateLimit, &sub.Ordered, (*store.TypesColumn)(&sub.EventTypes),
		store.OptionsColumn{Sub: sub}, &sub.Failures, &sub.AutoRecover, &sub.DisabledKind, &sub.NextProbeAt,
		&sub.Probes, &sub.ProbeDeliveryID, &sub.RecoverSince}
}

func scanSubscription(r pgx.Row) (store.Subscription, error) {
	var sub store.Subscription
	err := r.Scan(subscriptionDest(&sub)...)
	return sub, err
}

// conflictRetries bounds how often a create is retried when the row it
// collided with disappears before it can be named.
const conflictRetries = 3

func (s *Store) CreateSubscription(ctx context.Context, p store.CreateSubscriptionParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	t := timestamp(p.Now)
	sub := store.Subscription{
		ID:               ids.NewAt(ids.Subscription, p.Now),
		WorkspaceID:      p.WorkspaceID,
		WebhookURL:       p.WebhookURL,
		EventType:        p.EventType,
		WorkflowID:       p.WorkflowID,
		CampaignID:       p.CampaignID,
		SigningSecret:    p.SigningSecret,
		StandardWebhooks: p.StandardWebhooks,
		RateLimit:        p.RateLimit,
		Ordered:          p.Ordered,
		AutoRecover:      !p.NoAutoRecover,
		EventTypes:       p.EventTypes,
		Headers:          p.Headers,
		Filter:           p.Filter,
		ClientCert:       p.ClientCert,
		ClientKey:        p.ClientKey,
		Status:           store.SubscriptionActive,
		CreatedAt:        t,
		UpdatedAt:        t,
	}
	for range conflictRetries {
		_, err := s.pool.Exec(ctx, `INSERT INTO subscriptions (id, workspace_id, webhook_url, event_type,
			workflow_id, campaign_id, signing_secret, standard_webhooks, status, created_at, updated_at,
			rate_limit, ordered, event_types, options, auto_recover)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15)`,
			sub.ID, sub.WorkspaceID, sub.WebhookURL, sub.EventType, sub.WorkflowID, sub.CampaignID,
			sub.SigningSecret, sub.StandardWebhooks, sub.Status, t, sub.RateLimit, sub.Ordered,
			store.TypesColumn(sub.EventTypes), store.OptionsColumn{Sub: &sub}, sub.AutoRecover)
		if err = translate(err); !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return store.Subscription{}, err
			}
			return sub, nil
		}
		if conflict := s.activeDuplicate(ctx, sub); conflict != nil {
			return store.Subscription{}, conflict
		}
	}
	return store.Subscription{}, store.ErrConflict
}

// activeDuplicate names the live active subscription with sub's url, type
// and scope, other than sub itself; nil when there is none (any more).
func (s *Store) activeDuplicate(ctx context.Context, sub store.Subscription) error {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT id FROM subscriptions
		WHERE workspace_id = $1 AND event_type = $2 AND webhook_url = $3 AND workflow_id = $4
		  AND campaign_id = $5 AND id <> $6 AND status = 'active' AND deleted_at IS NULL`,
		sub.WorkspaceID, sub.EventType, sub.WebhookURL, sub.WorkflowID, sub.CampaignID, sub.ID).Scan(&id)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return translate(err)
	}
	return &store.ConflictError{ExistingID: id}
}

func (s *Store) GetSubscription(ctx context.Context, workspaceID, id string) (store.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, workspaceID, id))
	return sub, translate(err)
}

func (s *Store) ListSubscriptions(ctx context.Context, p store.ListSubscriptionsParams) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE workspace_id = $1 AND deleted_at IS NULL
		  AND ($2 = '' OR event_type = $2 OR (event_type = '*'
		    AND (strpos(event_types, ',*,') > 0 OR strpos(event_types, ',' || $2 || ',') > 0)))
		  AND ($3 = '' OR status = $3) AND id > $4
		  AND (cardinality($6::text[]) = 0 OR event_type = ANY($6::text[]))
		ORDER BY id LIMIT $5`, p.WorkspaceID, p.EventType, p.Status, p.After, limitArg(p.Limit), list(p.EventTypes))
	return rowsOf(rows, err, scanSubscription)
}

// UpdateSubscription applies p to the row (locked) and writes every
// updatable column back. A collision with an identical active subscription
// is caught by the unique index and named afterwards.
func (s *Store) UpdateSubscription(ctx context.Context, p store.UpdateSubscriptionParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	var sub store.Subscription
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		sub, err = scanSubscription(tx.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, p.WorkspaceID, p.ID))
		if err != nil {
			return err
		}
		p.Apply(&sub)
		sub.UpdatedAt = timestamp(p.Now)
		_, err = tx.Exec(ctx, `UPDATE subscriptions SET webhook_url = $2, workflow_id = $3, campaign_id = $4,
				rate_limit = $5, ordered = $6, standard_webhooks = $7, updated_at = $8, event_type = $9,
				event_types = $10, options = $11, auto_recover = $12
			WHERE id = $1`, sub.ID, sub.WebhookURL, sub.WorkflowID, sub.CampaignID, sub.RateLimit, sub.Ordered,
			sub.StandardWebhooks, sub.UpdatedAt, sub.EventType, store.TypesColumn(sub.EventTypes),
			store.OptionsColumn{Sub: &sub}, sub.AutoRecover)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		if conflict := s.activeDuplicate(ctx, sub); conflict != nil {
			return store.Subscription{}, conflict
		}
	}
	if err != nil {
		return store.Subscription{}, err
	}
	return sub, nil
}

// SetSubscriptionStatus clears the reason and the failure streak when
// enabling, so a re-enabled subscription gets its full grace period; a
// disabling by hand stops automatic recovery. Enabling next to an identical
// active subscription is a *store.ConflictError. The change's fact is
// written in its transaction.
func (s *Store) SetSubscriptionStatus(ctx context.Context, p store.SetSubscriptionStatusParams) (store.Subscription, error) {
	if err := errors.Join(store.ValidateSubscriptionStatus(p.Status), store.CheckNow(p.Now)); err != nil {
		return store.Subscription{}, err
	}
	var sub store.Subscription
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := scanSubscription(tx.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, p.WorkspaceID, p.ID))
		if err != nil {
			return err
		}
		t := timestamp(p.Now)
		sub, err = scanSubscription(tx.QueryRow(ctx, `UPDATE subscriptions SET
				status = $3,
				disabled_reason = CASE WHEN $3 = 'active' THEN '' ELSE $4 END,
				failing_since = CASE WHEN $3 = 'active' THEN NULL ELSE failing_since END,
				failures = CASE WHEN $3 = 'active' THEN 0 ELSE failures END,
				disabled_kind = CASE WHEN $3 = 'active' THEN '' ELSE 'manual' END,
				next_probe_at = NULL,
				probes = CASE WHEN $3 = 'active' THEN 0 ELSE probes END,
				probe_delivery_id = CASE WHEN $3 = 'active' THEN '' ELSE probe_delivery_id END,
				recover_since = CASE WHEN $3 = 'active' THEN NULL ELSE recover_since END,
				updated_at = $5
			WHERE workspace_id = $1 AND id = $2
			RETURNING `+subscriptionColumns, p.WorkspaceID, p.ID, p.Status, p.Reason, t))
		if err != nil {
			return err
		}
		if fact, ok := store.StatusFact(cur, p, t); ok {
			return s.writeFacts(ctx, tx, []store.Fact{fact})
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		existing, getErr := s.GetSubscription(ctx, p.WorkspaceID, p.ID)
		if getErr != nil {
			return store.Subscription{}, getErr
		}
		if conflict := s.activeDuplicate(ctx, existing); conflict != nil {
			return store.Subscription{}, conflict
		}
	}
	return sub, err
}

func (s *Store) RotateSecret(ctx context.Context, p store.RotateSecretParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `UPDATE subscriptions SET
			previous_secret = CASE WHEN $4::timestamptz IS NULL THEN '' ELSE signing_secret END,
			previous_until = $4,
			signing_secret = $3,
			updated_at = $5
		WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL
		RETURNING `+subscriptionColumns, p.WorkspaceID, p.ID, p.NewSecret, p.PreviousUntil, timestamp(p.Now)))
	return sub, translate(err)
}

// DeleteSubscription keeps the row, hidden, because deliveries and their
// history still reference it. Pending deliveries nobody holds become skipped
// now; one under a live lease is left to its holder, and if the holder dies
// the next claim returns it with Job.Deleted set.
func (s *Store) DeleteSubscription(ctx context.Context, workspaceID, id string, now time.Time) error {
	if err := store.CheckNow(now); err != nil {
		return err
	}
	t := timestamp(now)
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET deleted_at = $3, updated_at = $3
			WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, workspaceID, id, t)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		// Keys whose head is skipped here hand over to their next delivery
		// (of another ordered subscription to the same URL). Their locks
		// come first, as in every writer of a key: a completion holding one
		// may be waiting for a queue row this statement would lock.
		var keys []string
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT q.order_key), '{}')
			FROM delivery_queue q JOIN deliveries d ON d.id = q.delivery_id
			WHERE d.subscription_id = $1 AND d.status = 'pending' AND q.order_key IS NOT NULL`, id).Scan(&keys); err != nil {
			return err
		}
		if err := lockKeys(ctx, tx, keys); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `WITH q AS (
				DELETE FROM delivery_queue q USING deliveries d
				WHERE d.subscription_id = $1 AND d.status = 'pending' AND q.delivery_id = d.id
				  AND (q.lease_owner IS NULL OR q.lease_until < $2)
				RETURNING q.delivery_id, q.order_key
			), d AS (
				UPDATE deliveries SET status = 'skipped', next_attempt_at = NULL, updated_at = $2
				WHERE id IN (SELECT delivery_id FROM q)
			)
			SELECT coalesce(array_agg(DISTINCT order_key), '{}') FROM q WHERE order_key IS NOT NULL`,
			id, t).Scan(&keys)
		if err != nil {
			return err
		}
		return settleKeys(ctx, tx, keys)
	})
}
