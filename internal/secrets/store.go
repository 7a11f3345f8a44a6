package secrets

import (
	"context"
	"fmt"

	"github.com/revdesk/webhooks/internal/store"
)

// Store seals subscription secrets on their way into a store.Store and
// opens them on their way out; everything else passes through. Sealing at
// this edge rather than in each driver keeps the drivers free of keys and
// of one more rule each had to get right, and a new driver (or a new store
// method that passes subscriptions) is covered here once; the cost is one
// open per subscription per call (about a microsecond), which the fan-out
// of an ingest call shares.
//
// The wrapped store's optional interfaces (store.SingleProcess,
// store.Waker, …) are not promoted: look them up on the wrapped store.
type Store struct {
	store.Store
	keys *Keyring
}

// Wrap seals st's subscription secrets with keys.
func Wrap(st store.Store, keys *Keyring) *Store { return &Store{Store: st, keys: keys} }

func (s *Store) seal(p *string) {
	if p != nil {
		*p = s.keys.Seal(*p)
	}
}

func (s *Store) sealHeaders(hs []store.Header) []store.Header {
	out := make([]store.Header, len(hs))
	for i, h := range hs {
		if h.Secret {
			h.Value = s.keys.Seal(h.Value)
		}
		out[i] = h
	}
	return out
}

// open opens sub's sealed fields in place.
func (s *Store) open(sub *store.Subscription) error {
	var err error
	for _, p := range []*string{&sub.SigningSecret, &sub.PreviousSecret, &sub.ClientKey} {
		if *p, err = s.keys.Open(*p); err != nil {
			return fmt.Errorf("subscription %s: %w", sub.ID, err)
		}
	}
	for i := range sub.Headers {
		if sub.Headers[i].Secret {
			if sub.Headers[i].Value, err = s.keys.Open(sub.Headers[i].Value); err != nil {
				return fmt.Errorf("subscription %s: %w", sub.ID, err)
			}
		}
	}
	return nil
}

func (s *Store) opened(sub store.Subscription, err error) (store.Subscription, error) {
	if err != nil {
		return sub, err
	}
	return sub, s.open(&sub)
}

func (s *Store) CreateSubscription(ctx context.Context, p store.CreateSubscriptionParams) (store.Subscription, error) {
	s.seal(&p.SigningSecret)
	s.seal(&p.ClientKey)
	p.Headers = s.sealHeaders(p.Headers)
	return s.opened(s.Store.CreateSubscription(ctx, p))
}

func (s *Store) UpdateSubscription(ctx context.Context, p store.UpdateSubscriptionParams) (store.Subscription, error) {
	if p.ClientKey != nil {
		k := s.keys.Seal(*p.ClientKey)
		p.ClientKey = &k
	}
	if p.Headers != nil {
		hs := s.sealHeaders(*p.Headers)
		p.Headers = &hs
	}
	return s.opened(s.Store.UpdateSubscription(ctx, p))
}

func (s *Store) RotateSecret(ctx context.Context, p store.RotateSecretParams) (store.Subscription, error) {
	s.seal(&p.NewSecret)
	return s.opened(s.Store.RotateSecret(ctx, p))
}

func (s *Store) GetSubscription(ctx context.Context, workspaceID, id string) (store.Subscription, error) {
	return s.opened(s.Store.GetSubscription(ctx, workspaceID, id))
}

func (s *Store) SetSubscriptionStatus(ctx context.Context, p store.SetSubscriptionStatusParams) (store.Subscription, error) {
	return s.opened(s.Store.SetSubscriptionStatus(ctx, p))
}

func (s *Store) ListSubscriptions(ctx context.Context, p store.ListSubscriptionsParams) ([]store.Subscription, error) {
	subs, err := s.Store.ListSubscriptions(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range subs {
		if err := s.open(&subs[i]); err != nil {
			return nil, err
		}
	}
	return subs, nil
}

// Ingest opens the jobs' subscriptions. The events are committed already,
// so a job whose secret does not open (sealed with a key this process was
// not given: a misconfigured process among several) is left out rather
// than failing the call: its delivery stays leased until the lease ends
// and is then claimed, where the error shows.
func (s *Store) Ingest(ctx context.Context, reqs []store.IngestParams) ([]store.IngestResult, error) {
	res, err := s.Store.Ingest(ctx, reqs)
	if err != nil {
		return nil, err
	}
	opened := map[*store.Subscription]error{}
	drop := map[store.JobRef]bool{}
	for r := range res {
		for j, job := range res[r].Jobs {
			err, ok := opened[job.Subscription]
			if !ok {
				err = s.open(job.Subscription)
				opened[job.Subscription] = err
			}
			if err != nil {
				drop[store.JobRef{Req: r, Job: j}] = true
			}
		}
	}
	store.RemoveJobs(res, drop)
	return res, nil
}

func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Job, error) {
	jobs, err := s.Store.ClaimDeliveries(ctx, p)
	if err != nil {
		return nil, err
	}
	done := map[*store.Subscription]bool{}
	for _, j := range jobs {
		if done[j.Subscription] {
			continue
		}
		done[j.Subscription] = true
		if err := s.open(j.Subscription); err != nil {
			return nil, err
		}
	}
	return jobs, nil
}
