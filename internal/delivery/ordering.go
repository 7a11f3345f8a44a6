package delivery

import "github.com/revdesk/webhooks/internal/store"

// Ordered delivery needs nothing of the lanes: the store hands out only the
// head of each order key (store/ordering.go), so at most one delivery of a
// key is ever here. What the dispatcher adds is promptness: when a head is
// final, the next of its key becomes claimable, and the claimer is woken for
// it instead of waiting for its next poll.

// endsHead reports whether a recorded batch ended some key's head.
func endsHead(batch []store.Completion) bool {
	for _, c := range batch {
		if c.OrderKey != "" && c.Status != store.DeliveryPending {
			return true
		}
	}
	return false
}
