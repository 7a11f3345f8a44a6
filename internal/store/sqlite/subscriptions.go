package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/revdesk/webhooks/internal/ids"
	"github.com/revdesk/webhooks/internal/store"
)

const subscriptionColumns = `id, workspace_id, webhook_url, event_type, workflow_id, campaign_id,
	signing_secret, previous_secret, previous_until, standard_webhooks, status, disabled_reason,
	failing_since, created_at, updated_at, rate_limit, ordered, event_types, options, failures, auto_recover,
	disabled_kind, next_probe_at, probes, probe_delivery_id, recover_since, deleted_at IS NOT NULL`

type scanner interface{ Scan(dest ...any) error }

// scanSubscription reads subscriptionColumns; deleted reports whether the
// subscription was deleted (only claims look at deleted ones).
func scanSubscription(row scanner) (sub store.Subscription, deleted bool, err error) {
	var prevUntil, failing, probeAt, recoverSince sql.NullInt64
	var created, updated int64
	err = row.Scan(&sub.ID, &sub.WorkspaceID, &sub.WebhookURL, &sub.EventType, &sub.WorkflowID, &sub.CampaignID,
		&sub.SigningSecret, &sub.PreviousSecret, &prevUntil, &sub.StandardWebhooks, &sub.Status, &sub.DisabledReason,
		&failing, &created, &updated, &sub.RateLimit, &sub.Ordered, (*store.TypesColumn)(&sub.EventTypes),
		store.OptionsColumn{Sub: &sub}, &sub.Failures, &sub.AutoRecover, &sub.DisabledKind, &probeAt, &sub.Probes,
		&sub.ProbeDeliveryID, &recoverSince, &deleted)
	if err != nil {
		return sub, false, translate(err)
	}
	sub.PreviousUntil, sub.FailingSince = fromNullNS(prevUntil), fromNullNS(failing)
	sub.NextProbeAt, sub.RecoverSince = fromNullNS(probeAt), fromNullNS(recoverSince)
	sub.CreatedAt, sub.UpdatedAt = fromNS(created), fromNS(updated)
	return sub, deleted, nil
}

func getSubscription(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, workspaceID, id string) (store.Subscription, error) {
	sub, _, err := scanSubscription(q.QueryRowContext(ctx, `SELECT `+subscriptionColumns+`
		FROM subscriptions WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`, id, workspaceID))
	return sub, err
}

// activeTwin finds the active subscription identical to sub (same url, type
// and scope), other than sub itself.
func activeTwin(ctx context.Context, tx *sql.Tx, sub store.Subscription) error {
	var existing string
	err := tx.QueryRowContext(ctx, `SELECT id FROM subscriptions WHERE workspace_id = ? AND webhook_url = ?
		AND event_type = ? AND workflow_id = ? AND campaign_id = ? AND status = 'active' AND deleted_at IS NULL
		AND id <> ?`, sub.WorkspaceID, sub.WebhookURL, sub.EventType, sub.WorkflowID, sub.CampaignID, sub.ID,
	).Scan(&existing)
	switch {
	case err == nil:
		return &store.ConflictError{ExistingID: existing}
	case errors.Is(err, sql.ErrNoRows):
		return nil
	default:
		return err
	}
}

func (s *Store) CreateSubscription(ctx context.Context, p store.CreateSubscriptionParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	now := p.Now
	at := fromNS(ns(now))
	sub := store.Subscription{
		ID: ids.NewAt(ids.Subscription, now), WorkspaceID: p.WorkspaceID, WebhookURL: p.WebhookURL,
		EventType: p.EventType, WorkflowID: p.WorkflowID, CampaignID: p.CampaignID,
		SigningSecret: p.SigningSecret, StandardWebhooks: p.StandardWebhooks,
		RateLimit: p.RateLimit, Ordered: p.Ordered, EventTypes: p.EventTypes, Headers: p.Headers,
		Filter: p.Filter, ClientCert: p.ClientCert, ClientKey: p.ClientKey, AutoRecover: !p.NoAutoRecover,
		Status: store.SubscriptionActive, CreatedAt: at, UpdatedAt: at,
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := activeTwin(ctx, tx, sub); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (id, workspace_id, webhook_url, event_type,
			workflow_id, campaign_id, signing_secret, standard_webhooks, status, created_at, updated_at,
			rate_limit, ordered, event_types, options, auto_recover)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			sub.ID, sub.WorkspaceID, sub.WebhookURL, sub.EventType, sub.WorkflowID, sub.CampaignID,
			sub.SigningSecret, sub.StandardWebhooks, sub.Status, ns(now), ns(now), sub.RateLimit, sub.Ordered,
			store.TypesColumn(sub.EventTypes), store.OptionsColumn{Sub: &sub}, sub.AutoRecover)
		return err
	})
	if err != nil {
		return store.Subscription{}, err
	}
	return sub, nil
}

func (s *Store) GetSubscription(ctx context.Context, workspaceID, id string) (store.Subscription, error) {
	return getSubscription(ctx, s.r, workspaceID, id)
}

func (s *Store) ListSubscriptions(ctx context.Context, p store.ListSubscriptionsParams) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE workspace_id = ?1 AND deleted_at IS NULL AND id > ?2
		AND (?3 = '' OR event_type = ?3 OR (event_type = '*'
			AND (instr(event_types, ',*,') > 0 OR instr(event_types, ',' || ?3 || ',') > 0)))
		AND (?4 = '' OR status = ?4)
		AND (?6 = '' OR event_type IN (SELECT value FROM json_each(?6)))
		ORDER BY id LIMIT ?5`, p.WorkspaceID, p.After, p.EventType, p.Status, limitOrAll(p.Limit), typeList(p.EventTypes))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	subs := []store.Subscription{}
	for rows.Next() {
		sub, _, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, translate(rows.Err())
}

// UpdateSubscription applies p to the current row and writes every
// updatable column back, after the identical-twin check for an active one.
func (s *Store) UpdateSubscription(ctx context.Context, p store.UpdateSubscriptionParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	var sub store.Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if sub, err = getSubscription(ctx, tx, p.WorkspaceID, p.ID); err != nil {
			return err
		}
		p.Apply(&sub)
		if sub.Status == store.SubscriptionActive {
			if err := activeTwin(ctx, tx, sub); err != nil {
				return err
			}
		}
		now := p.Now
		sub.UpdatedAt = fromNS(ns(now))
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET webhook_url = ?, workflow_id = ?,
			campaign_id = ?, rate_limit = ?, ordered = ?, standard_webhooks = ?, event_type = ?, event_types = ?,
			options = ?, auto_recover = ?, updated_at = ? WHERE id = ?`,
			sub.WebhookURL, sub.WorkflowID, sub.CampaignID, sub.RateLimit, sub.Ordered, sub.StandardWebhooks,
			sub.EventType, store.TypesColumn(sub.EventTypes), store.OptionsColumn{Sub: &sub}, sub.AutoRecover,
			ns(now), sub.ID)
		return err
	})
	if err != nil {
		return store.Subscription{}, err
	}
	return sub, nil
}

// SetSubscriptionStatus enables or disables a subscription. Enabling starts a
// fresh failure streak, and is a *store.ConflictError when an identical
// subscription became active meanwhile.
func (s *Store) SetSubscriptionStatus(ctx context.Context, p store.SetSubscriptionStatusParams) (store.Subscription, error) {
	if err := errors.Join(store.ValidateSubscriptionStatus(p.Status), store.CheckNow(p.Now)); err != nil {
		return store.Subscription{}, err
	}
	var sub store.Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getSubscription(ctx, tx, p.WorkspaceID, p.ID)
		if err != nil {
			return err
		}
		if p.Status == store.SubscriptionActive {
			if err := activeTwin(ctx, tx, cur); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'active', disabled_reason = '',
				failing_since = NULL, failures = 0, disabled_kind = '', next_probe_at = NULL, probes = 0,
				probe_delivery_id = '', recover_since = NULL, updated_at = ? WHERE id = ?`, ns(p.Now), p.ID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'disabled', disabled_reason = ?,
				disabled_kind = 'manual', next_probe_at = NULL, updated_at = ? WHERE id = ?`, p.Reason, ns(p.Now), p.ID)
		}
		if err != nil {
			return err
		}
		if fact, ok := store.StatusFact(cur, p, fromNS(ns(p.Now))); ok {
			if err := s.writeFacts(ctx, tx, []store.Fact{fact}); err != nil {
				return err
			}
		}
		sub, err = getSubscription(ctx, tx, p.WorkspaceID, p.ID)
		return err
	})
	return sub, err
}

func (s *Store) RotateSecret(ctx context.Context, p store.RotateSecretParams) (store.Subscription, error) {
	if err := store.CheckNow(p.Now); err != nil {
		return store.Subscription{}, err
	}
	var sub store.Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// With an overlap the current secret becomes the previous one;
		// without, the previous one is dropped now.
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET
			previous_secret = CASE WHEN ?1 IS NULL THEN '' ELSE signing_secret END,
			previous_until = ?1, signing_secret = ?2, updated_at = ?3
			WHERE id = ?4 AND workspace_id = ?5 AND deleted_at IS NULL`,
			nsPtr(p.PreviousUntil), p.NewSecret, ns(p.Now), p.ID, p.WorkspaceID)
		if err := expectOne(res, err); err != nil {
			return err
		}
		sub, err = getSubscription(ctx, tx, p.WorkspaceID, p.ID)
		return err
	})
	return sub, err
}

// DeleteSubscription hides the subscription and skips its pending deliveries
// that nobody holds; leased ones are skipped by their holder, which sees
// Job.Deleted when it next claims them.
func (s *Store) DeleteSubscription(ctx context.Context, workspaceID, id string, at time.Time) error {
	if err := store.CheckNow(at); err != nil {
		return err
	}
	now := ns(at)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET deleted_at = ?, updated_at = ?
			WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`, now, now, id, workspaceID)
		if err := expectOne(res, err); err != nil {
			return err
		}
		// Keys whose head was skipped here hand over to their next delivery
		// (of another ordered subscription to the same URL).
		keys, err := keyedRows(tx.QueryContext(ctx, `UPDATE deliveries SET status = 'skipped',
			next_attempt_at = NULL, due_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = ?
			WHERE subscription_id = ? AND status = 'pending' AND (lease_owner IS NULL OR lease_until < ?)
			RETURNING order_key`, now, id, now))
		if err != nil {
			return err
		}
		return promote(ctx, tx, keys)
	})
}
