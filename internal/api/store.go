package api

import (
	"context"
	"time"

	"github.com/revdesk/webhooks/internal/store"
)

// Store is the part of store.Store the API uses: the resources it serves and
// the keys it checks. Delivery work (claims, completions, leases) and
// maintenance are not the API's business.
type Store interface {
	GetAPIKey(ctx context.Context, id string) (store.APIKey, error)
	CreateAPIKey(ctx context.Context, p store.CreateAPIKeyParams) (store.APIKey, error)
	ListAPIKeys(ctx context.Context, workspaceID string) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, workspaceID, id string, now time.Time) error

	CreatePortalSession(ctx context.Context, p store.CreatePortalSessionParams) (store.PortalSession, error)
	GetPortalSession(ctx context.Context, id string) (store.PortalSession, error)
	RevokePortalSession(ctx context.Context, workspaceID, id string, now time.Time) error

	CreateSubscription(ctx context.Context, p store.CreateSubscriptionParams) (store.Subscription, error)
	GetSubscription(ctx context.Context, workspaceID, id string) (store.Subscription, error)
	ListSubscriptions(ctx context.Context, p store.ListSubscriptionsParams) ([]store.Subscription, error)
	SetSubscriptionStatus(ctx context.Context, p store.SetSubscriptionStatusParams) (store.Subscription, error)
	RotateSecret(ctx context.Context, p store.RotateSecretParams) (store.Subscription, error)
	UpdateSubscription(ctx context.Context, p store.UpdateSubscriptionParams) (store.Subscription, error)
	DeleteSubscription(ctx context.Context, workspaceID, id string, now time.Time) error
	RetryFailed(ctx context.Context, p store.RetryFailedParams) (int, error)
	CreateReplay(ctx context.Context, p store.CreateReplayParams) (store.Replay, error)
	GetReplay(ctx context.Context, workspaceID, id string) (store.Replay, error)

	GetEvent(ctx context.Context, workspaceID, id string) (store.Event, error)
	ListEvents(ctx context.Context, p store.ListEventsParams) ([]store.Event, error)

	GetDelivery(ctx context.Context, workspaceID, id string) (store.Delivery, []store.Attempt, error)
	ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error)
	RetryDelivery(ctx context.Context, workspaceID, id string, now time.Time) (store.Delivery, error)

	Ping(ctx context.Context) error
}
