package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/revdesk/webhooks/webhook"
)

// envelope wraps payload as RevDesk delivers enveloped types.
func envelope(trigger, payload string) string {
	return `{"triggerEvent":"` + trigger + `","createdAt":"2026-06-30T19:30:00.000Z","payload":` + payload + `}`
}

func TestParse(t *testing.T) {
	t.Parallel()
	smsBody := `{"id":"msg_uuid","phone_number":"+15557654321","from_number":"+15551234567","direction":"outbound","status":"delivered","contact_token":"…","provider_id":"…","error_message":null,"channel":"sms","created_at":"2026-06-30T19:30:00.000Z"}`
	tests := []struct {
		name, eventType, body string
		wantData, trigger     string
		wantErr               error
	}{
		{"flat call", webhook.EventCallVoicemail, callBody, callBody, "", nil},
		{"flat sms", webhook.EventSMSDelivered, smsBody, smsBody, "", nil},
		{"flat with leading space", webhook.EventNewCall, " \n{}", " \n{}", "", nil},
		{"enveloped number", webhook.EventNumberPurchased, numberBody,
			`{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}`, "number.purchased", nil},
		{"enveloped contact", webhook.EventContactCreated, envelope("contact.created", `{"id":"ct_1"}`), `{"id":"ct_1"}`, "contact.created", nil},
		{"enveloped appointment", webhook.EventNewAppointment, envelope("appointment.created", `{"id":"a"}`), `{"id":"a"}`, "appointment.created", nil},
		{"enveloped registration", webhook.EventTextingRegistrationStatusChanged, envelope("texting_registration.status_changed", `{"id":"r"}`), `{"id":"r"}`, "texting_registration.status_changed", nil},
		{"enveloped workflow", webhook.EventWorkflowContactCompleted, envelope("workflow.contact_completed", `{"id":"w"}`), `{"id":"w"}`, "workflow.contact_completed", nil},
		{"trigger mismatch", webhook.EventNumberReleased, numberBody, "", "", webhook.ErrMalformedBody},
		{"enveloped type sent flat", webhook.EventNumberPurchased, `{"id":4821}`, "", "", webhook.ErrMalformedBody},
		{"payload not an object", webhook.EventNumberPurchased, envelope("number.purchased", `null`), "", "", webhook.ErrMalformedBody},
		{"flat not JSON", webhook.EventCallCompleted, `{"id":`, "", "", webhook.ErrMalformedBody},
		{"flat array", webhook.EventCallCompleted, `[]`, "", "", webhook.ErrMalformedBody},
		{"empty body", webhook.EventSMSSent, ``, "", "", webhook.ErrMalformedBody},
		{"unknown type", "call_answered", callBody, "", "", webhook.ErrUnknownEventType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := webhook.Parse(tt.eventType, []byte(tt.body))
			t.Logf("Parse(%s) err=%v", tt.eventType, err)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tt.eventType || string(ev.Data) != tt.wantData || ev.TriggerEvent != tt.trigger {
				t.Errorf("got type %q trigger %q data %s", ev.Type, ev.TriggerEvent, ev.Data)
			}
			wantCreated := time.Time{}
			if tt.trigger != "" {
				wantCreated = time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
			}
			if !ev.CreatedAt.Equal(wantCreated) {
				t.Errorf("CreatedAt = %v, want %v", ev.CreatedAt, wantCreated)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	parse := func(eventType, body string) *webhook.Event {
		t.Helper()
		ev, err := webhook.Parse(eventType, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	at := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		ev    *webhook.Event
		check func(t *testing.T, ev *webhook.Event) error
	}{
		{"call", parse(webhook.EventCallVoicemail, callBody), func(t *testing.T, ev *webhook.Event) error {
			c, err := ev.Call()
			if err == nil && (c.ID != "call_abc123" || c.Status != "VOICEMAIL" || c.FailureCategory != "voicemail" || c.DisconnectionReason != "" || !c.CreatedAt.Equal(at)) {
				t.Errorf("call %+v", c)
			}
			return err
		}},
		{"sms", parse(webhook.EventSMSFailed, `{"id":"m","direction":"outbound","error_message":"30007","created_at":"2026-06-30T19:30:00.000Z"}`), func(t *testing.T, ev *webhook.Event) error {
			m, err := ev.SMS()
			if err == nil && (m.ID != "m" || m.ErrorMessage != "30007" || !m.CreatedAt.Equal(at)) {
				t.Errorf("sms %+v", m)
			}
			return err
		}},
		{"number", parse(webhook.EventNumberPurchased, numberBody), func(t *testing.T, ev *webhook.Event) error {
			n, err := ev.Number()
			if err == nil && (n.ID != 4821 || n.AreaCode != "555" || n.Status != "ACTIVE") {
				t.Errorf("number %+v", n)
			}
			return err
		}},
		{"contact", parse(webhook.EventContactCreated, envelope("contact.created", `{"id":"ct_1","email":"a@b.c"}`)), func(t *testing.T, ev *webhook.Event) error {
			c, err := ev.Contact()
			if err == nil && (c.ID != "ct_1" || c.Email != "a@b.c") {
				t.Errorf("contact %+v", c)
			}
			return err
		}},
		{"registration", parse(webhook.EventTextingRegistrationStatusChanged, envelope("texting_registration.status_changed",
			`{"id":"r","registration_type":"campaign","status":"approved","texting_enabled_numbers":["+15551234567"]}`)), func(t *testing.T, ev *webhook.Event) error {
			r, err := ev.TextingRegistration()
			if err == nil && (r.RegistrationType != "campaign" || len(r.TextingEnabledNumbers) != 1) {
				t.Errorf("registration %+v", r)
			}
			return err
		}},
		{"appointment", parse(webhook.EventNewAppointment, envelope("appointment.created", `{"id":"a","start_time":"2026-07-02T15:00:00Z","end_time":null}`)), func(t *testing.T, ev *webhook.Event) error {
			a, err := ev.Appointment()
			if err == nil && (a.ID != "a" || a.StartTime.IsZero() || !a.EndTime.IsZero()) {
				t.Errorf("appointment %+v", a)
			}
			return err
		}},
		{"subscription health", parse(webhook.EventSubscriptionDisabled, envelope("subscription.disabled",
			`{"id":"whk_1","subscription_id":"whk_1","webhook_url":"https://x/h","event_type":"sms_sent","reason":"410","by":"automatic","consecutive_failures":3,"failing_since":"2026-06-30T19:30:00.000Z","created_at":"2026-06-30T19:30:00.000Z"}`)), func(t *testing.T, ev *webhook.Event) error {
			h, err := ev.SubscriptionHealth()
			if err == nil && (h.SubscriptionID != "whk_1" || h.By != "automatic" || h.ConsecutiveFailures != 3 || h.FailingSince == nil || !h.FailingSince.Equal(at)) {
				t.Errorf("subscription health %+v", h)
			}
			return err
		}},
		{"delivery exhausted", parse(webhook.EventDeliveryExhausted, envelope("delivery.exhausted",
			`{"id":"dlv_1","delivery_id":"dlv_1","event_id":"evt_1","subscription_id":"whk_1","webhook_url":"https://x/h","event_type":"sms_sent","attempts":8,"last_status_code":null,"last_error":"timeout","created_at":"2026-06-30T19:30:00.000Z"}`)), func(t *testing.T, ev *webhook.Event) error {
			x, err := ev.DeliveryExhausted()
			if err == nil && (x.DeliveryID != "dlv_1" || x.Attempts != 8 || x.LastStatusCode != 0 || x.LastError != "timeout") {
				t.Errorf("delivery exhausted %+v", x)
			}
			return err
		}},
		{"workflow", parse(webhook.EventWorkflowContactCompleted, envelope("workflow.contact_completed", `{"id":"w","workflow_id":"wf"}`)), func(t *testing.T, ev *webhook.Event) error {
			w, err := ev.WorkflowContactCompleted()
			if err == nil && w.WorkflowID != "wf" {
				t.Errorf("workflow %+v", w)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.check(t, tt.ev); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAccessorErrors(t *testing.T) {
	t.Parallel()
	call, err := webhook.Parse(webhook.EventCallCompleted, []byte(callBody))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call.SMS(); !errors.Is(err, webhook.ErrWrongEventType) {
		t.Errorf("SMS() on a call: %v", err)
	}
	if _, err := call.Number(); !errors.Is(err, webhook.ErrWrongEventType) {
		t.Errorf("Number() on a call: %v", err)
	}
	bad, err := webhook.Parse(webhook.EventCallCompleted, []byte(`{"duration_seconds":"long"}`))
	if err != nil {
		t.Fatalf("Parse must not type the data: %v", err)
	}
	_, err = bad.Call()
	t.Logf("Call() = %v", err)
	if !errors.Is(err, webhook.ErrMalformedBody) {
		t.Errorf("Call() on bad data: %v", err)
	}
}

func TestSigned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		eventType string
		want      bool
	}{
		{webhook.EventCallCompleted, false}, {webhook.EventSMSSent, false}, {webhook.EventContactReplied, false},
		{webhook.EventNumberPurchased, true}, {webhook.EventContactCreated, true}, {webhook.EventWorkflowContactCompleted, true},
		{"unknown", false},
	}
	for _, tt := range tests {
		if got := webhook.Signed(tt.eventType); got != tt.want {
			t.Errorf("Signed(%q) = %v, want %v", tt.eventType, got, tt.want)
		}
	}
}
