package store

import (
	"fmt"
	"testing"
)

// BenchmarkRoutesFiltered is the routing cost of one event of a type with
// 1,000 filtered subscriptions (one op: the whole fan-out decision, data
// decoded once), against the same without filters.
func BenchmarkRoutesFiltered(b *testing.B) {
	data := []byte(`{"id":"call_abc123","from_number":"+15551234567","to_number":"+15557654321",
		"direction":"outbound","duration_seconds":42,"status":"VOICEMAIL","failure_code":"voicemail_reached",
		"failure_category":"voicemail","disconnection_reason":null,"created_at":"2026-06-30T19:30:00.000Z"}`)
	for _, filtered := range []bool{false, true} {
		subs := make([]Subscription, 1000)
		for i := range subs {
			subs[i] = Subscription{ID: fmt.Sprint(i), EventType: "call_completed"}
			if filtered {
				subs[i].Filter = fmt.Sprintf(`data.duration_seconds > %d && data.status == "VOICEMAIL"`, i)
			}
		}
		b.Run(fmt.Sprintf("filtered=%v", filtered), func(b *testing.B) {
			matched := 0
			for b.Loop() {
				e := NewEvent{EventType: "call_completed", Data: data}
				matched = 0
				for i := range subs {
					if Routes(&subs[i], &e) {
						matched++
					}
				}
			}
			if filtered && matched != 42 {
				b.Fatalf("%d subscriptions matched, want 42", matched)
			}
		})
	}
}
