package catalog_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
	"github.com/revdesk/webhooks/webhook"
)

// decodeTyped calls the SDK accessor that matches an event type, so every
// example is proven to decode into the public structs.
func decodeTyped(ev *webhook.Event) error {
	var err error
	switch ev.Type {
	case webhook.EventNewCall, webhook.EventCallCompleted, webhook.EventCallNoAnswer,
		webhook.EventCallVoicemail, webhook.EventCallBusy, webhook.EventCallFailed:
		_, err = ev.Call()
	case webhook.EventContactReplied, webhook.EventSMSSent, webhook.EventSMSDelivered, webhook.EventSMSFailed:
		_, err = ev.SMS()
	case webhook.EventNumberPurchased, webhook.EventNumberReleased:
		_, err = ev.Number()
	case webhook.EventContactCreated:
		_, err = ev.Contact()
	case webhook.EventTextingRegistrationStatusChanged:
		_, err = ev.TextingRegistration()
	case webhook.EventNewAppointment:
		_, err = ev.Appointment()
	case webhook.EventWorkflowContactCompleted:
		_, err = ev.WorkflowContactCompleted()
	}
	return err
}

// TestSDKAgrees checks the public SDK against the catalog: what the server
// builds, the SDK unwraps to the same data bytes, with the same signing.
func TestSDKAgrees(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 30, 19, 30, 0, 123_000_000, time.UTC)
	for _, et := range catalog.All() {
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			if webhook.Signed(et.Name) != et.Signed {
				t.Errorf("SDK Signed = %v, catalog %v", webhook.Signed(et.Name), et.Signed)
			}
			body, err := catalog.Body(et.Name, at, et.Example)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := webhook.Parse(et.Name, body)
			if err != nil {
				t.Fatalf("SDK cannot parse %s", body)
			}
			if !bytes.Equal(ev.Data, et.Example) || ev.TriggerEvent != et.TriggerEvent {
				t.Errorf("SDK data %s trigger %q", ev.Data, ev.TriggerEvent)
			}
			if et.Shape == catalog.ShapeEnveloped && !ev.CreatedAt.Equal(at) {
				t.Errorf("SDK createdAt %v, want %v", ev.CreatedAt, at)
			}
			if err := decodeTyped(ev); err != nil {
				t.Errorf("typed accessor: %v", err)
			}
		})
	}
}
