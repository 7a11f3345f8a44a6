package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revdesk/webhooks/internal/catalog"
)

// documented lists the event types in the documentation's order.
var documented = []string{
	"new_call", "call_completed", "call_no_answer", "call_voicemail", "call_busy", "call_failed",
	"contact_replied", "sms_sent", "sms_delivered", "sms_failed",
	"contact_created", "number_purchased", "number_released",
	"texting_registration_status_changed", "new_appointment", "workflow_contact_completed",
	// Operational events, ours: after the documentation's.
	"subscription_disabled", "subscription_enabled", "subscription_failing", "subscription_recovered",
	"delivery_exhausted",
}

// docCallRecord is the call disposition example of the documentation, verbatim.
const docCallRecord = `{
"id": "call_abc123",
"from_number": "+15551234567",
"to_number": "+15557654321",
"direction": "outbound",
"duration_seconds": 0,
"status": "VOICEMAIL",
"failure_code": "voicemail_reached",
"failure_category": "voicemail",
"disconnection_reason": null,
"created_at": "2026-06-30T19:30:00.000Z"
}`

// docSMS is the outbound SMS example of the documentation, verbatim.
const docSMS = `{
"id": "msg_uuid",
"phone_number": "+15557654321",
"from_number": "+15551234567",
"direction": "outbound",
"status": "delivered",
"contact_token": "…",
"provider_id": "…",
"error_message": null,
"channel": "sms",
"created_at": "2026-06-30T19:30:00.000Z"
}`

// docNumber is the payload of the documentation's number lifecycle example.
const docNumber = `{
"id": 4821,
"phone_number": "+15551234567",
"area_code": "555",
"status": "ACTIVE",
"organization_id": "…"
}`

func lookup(t *testing.T, name string) catalog.EventType {
	t.Helper()
	et, ok := catalog.Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) not found", name)
	}
	return et
}

// edit decodes a JSON object, applies change and re-encodes it; key order is
// irrelevant to validation.
func edit(t *testing.T, doc string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("edit: %v", err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	return b
}

func TestAllInDocumentationOrder(t *testing.T) {
	t.Parallel()
	all := catalog.All()
	if len(all) != len(documented) {
		t.Fatalf("All() has %d types, want %d", len(all), len(documented))
	}
	for i, et := range all {
		if et.Name != documented[i] {
			t.Errorf("All()[%d] = %q, want %q", i, et.Name, documented[i])
		}
	}
	all[0].Name = "mutated"
	if catalog.All()[0].Name != "new_call" {
		t.Error("All() exposes the catalog's own slice")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		family  catalog.Family
		shape   catalog.Shape
		signed  bool
		trigger string
		derived bool
	}{
		{"new_call", catalog.FamilyCall, catalog.ShapeFlat, false, "", false},
		{"call_completed", catalog.FamilyCall, catalog.ShapeFlat, false, "", false},
		{"call_no_answer", catalog.FamilyCall, catalog.ShapeFlat, false, "", true},
		{"call_voicemail", catalog.FamilyCall, catalog.ShapeFlat, false, "", true},
		{"call_busy", catalog.FamilyCall, catalog.ShapeFlat, false, "", true},
		{"call_failed", catalog.FamilyCall, catalog.ShapeFlat, false, "", true},
		{"contact_replied", catalog.FamilySMS, catalog.ShapeFlat, false, "", false},
		{"sms_sent", catalog.FamilySMS, catalog.ShapeFlat, false, "", false},
		{"sms_delivered", catalog.FamilySMS, catalog.ShapeFlat, false, "", false},
		{"sms_failed", catalog.FamilySMS, catalog.ShapeFlat, false, "", false},
		{"contact_created", catalog.FamilyOther, catalog.ShapeEnveloped, true, "contact.created", false},
		{"number_purchased", catalog.FamilyNumber, catalog.ShapeEnveloped, true, "number.purchased", false},
		{"number_released", catalog.FamilyNumber, catalog.ShapeEnveloped, true, "number.released", false},
		{"texting_registration_status_changed", catalog.FamilyOther, catalog.ShapeEnveloped, true, "texting_registration.status_changed", false},
		{"new_appointment", catalog.FamilyOther, catalog.ShapeEnveloped, true, "appointment.created", false},
		{"workflow_contact_completed", catalog.FamilyOther, catalog.ShapeEnveloped, true, "workflow.contact_completed", false},
		{"subscription_disabled", catalog.FamilyOperational, catalog.ShapeEnveloped, true, "subscription.disabled", false},
		{"subscription_enabled", catalog.FamilyOperational, catalog.ShapeEnveloped, true, "subscription.enabled", false},
		{"subscription_failing", catalog.FamilyOperational, catalog.ShapeEnveloped, true, "subscription.failing", false},
		{"subscription_recovered", catalog.FamilyOperational, catalog.ShapeEnveloped, true, "subscription.recovered", false},
		{"delivery_exhausted", catalog.FamilyOperational, catalog.ShapeEnveloped, true, "delivery.exhausted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			et := lookup(t, tt.name)
			t.Logf("%s: %s/%s signed=%v trigger=%q", et.Name, et.Family, et.Shape, et.Signed, et.TriggerEvent)
			if et.Family != tt.family || et.Shape != tt.shape || et.Signed != tt.signed || et.TriggerEvent != tt.trigger || et.Derived != tt.derived {
				t.Errorf("got %+v", et)
			}
			if et.Description == "" || !json.Valid(et.Schema) || !json.Valid(et.Example) {
				t.Error("description, schema or example missing")
			}
		})
	}
	for _, name := range []string{"", "NEW_CALL", "number.purchased", "call_answered"} {
		if _, ok := catalog.Lookup(name); ok {
			t.Errorf("Lookup(%q) found a type", name)
		}
	}
}

func TestEventTypeJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(lookup(t, "number_purchased"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"name", "family", "shape", "signed", "trigger_event", "description", "derived", "schema", "example"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, b)
		}
	}
	b, _ = json.Marshal(lookup(t, "new_call"))
	if bytes.Contains(b, []byte("trigger_event")) {
		t.Errorf("flat type shows trigger_event: %s", b)
	}
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	for _, et := range catalog.All() {
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			if err := catalog.Validate(et.Name, et.Example); err != nil {
				t.Errorf("example does not validate: %v", err)
			}
		})
	}
}

func TestExampleDispositions(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"call_completed": "", "call_no_answer": "call_no_answer", "call_voicemail": "call_voicemail",
		"call_busy": "call_busy", "call_failed": "call_failed",
	}
	for name, disposition := range want {
		got, err := catalog.Disposition(lookup(t, name).Example)
		if err != nil || got != disposition {
			t.Errorf("Disposition(example of %s) = %q, %v; want %q", name, got, err, disposition)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		eventType string
		data      []byte
		field     string // "" with wantErr false means valid
		wantErr   bool
	}{
		{"doc call record", "call_completed", []byte(docCallRecord), "", false},
		{"doc call record as disposition", "call_voicemail", []byte(docCallRecord), "", false},
		{"doc call record as new_call", "new_call", []byte(docCallRecord), "", false},
		{"doc sms", "sms_delivered", []byte(docSMS), "", false},
		{"doc sms as contact_replied", "contact_replied", []byte(docSMS), "", false},
		{"doc number", "number_purchased", []byte(docNumber), "", false},
		{"doc number released", "number_released", []byte(docNumber), "", false},
		{"extra fields allowed", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["recording_url"] = "https://x" }), "", false},
		{"failure fields may be strings", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["disconnection_reason"] = "callee_hangup" }), "", false},
		{"failure fields may be null", "call_completed", edit(t, docCallRecord, func(m map[string]any) {
			m["failure_code"], m["failure_category"], m["disconnection_reason"] = nil, nil, nil
		}), "", false},
		{"sms placeholders may be null", "sms_sent", edit(t, docSMS, func(m map[string]any) { m["contact_token"], m["provider_id"] = nil, nil }), "", false},
		{"sms error_message string", "sms_failed", edit(t, docSMS, func(m map[string]any) { m["error_message"] = "30007" }), "", false},
		{"organization_id may be null", "number_released", edit(t, docNumber, func(m map[string]any) { m["organization_id"] = nil }), "", false},
		{"missing from_number", "call_completed", edit(t, docCallRecord, func(m map[string]any) { delete(m, "from_number") }), "/from_number", true},
		{"missing failure_category", "call_completed", edit(t, docCallRecord, func(m map[string]any) { delete(m, "failure_category") }), "/failure_category", true},
		{"duration as string", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["duration_seconds"] = "0" }), "/duration_seconds", true},
		{"negative duration", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["duration_seconds"] = -1 }), "/duration_seconds", true},
		{"status null", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["status"] = nil }), "/status", true},
		{"failure_code number", "call_completed", edit(t, docCallRecord, func(m map[string]any) { m["failure_code"] = 486 }), "/failure_code", true},
		{"sms missing channel", "sms_sent", edit(t, docSMS, func(m map[string]any) { delete(m, "channel") }), "/channel", true},
		{"sms missing error_message", "sms_failed", edit(t, docSMS, func(m map[string]any) { delete(m, "error_message") }), "/error_message", true},
		{"number id string", "number_purchased", edit(t, docNumber, func(m map[string]any) { m["id"] = "4821" }), "/id", true},
		{"number area_code number", "number_purchased", edit(t, docNumber, func(m map[string]any) { m["area_code"] = 555 }), "/area_code", true},
		{"several problems report the first field", "call_completed", edit(t, docCallRecord, func(m map[string]any) {
			delete(m, "to_number")
			m["created_at"] = 1
		}), "/created_at", true},
		{"array is not an object", "call_completed", []byte(`[]`), "", true},
		{"invalid JSON", "call_completed", []byte(`{"id":`), "", true},
		{"trailing data", "call_completed", []byte(docCallRecord + ` {}`), "", true},
		{"contact minimal", "contact_created", []byte(`{"id":"ct_1","created_at":"2026-06-30T19:30:00.000Z"}`), "", false},
		{"contact missing id", "contact_created", []byte(`{"created_at":"2026-06-30T19:30:00.000Z"}`), "/id", true},
		{"appointment missing created_at", "new_appointment", []byte(`{"id":"apt_1"}`), "/created_at", true},
		{"workflow minimal", "workflow_contact_completed", []byte(`{"id":"w","created_at":"2026-06-30T19:30:00.000Z"}`), "", false},
		{"brand approved without numbers", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"approved","registration_type":"brand","texting_enabled_numbers":[]}`), "", false},
		{"campaign rejected without numbers", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"rejected","registration_type":"campaign","texting_enabled_numbers":[]}`), "", false},
		{"campaign approved without numbers", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"approved","registration_type":"campaign","texting_enabled_numbers":[]}`), "/texting_enabled_numbers", true},
		{"registration without numbers field", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"pending","registration_type":"brand"}`), "/texting_enabled_numbers", true},
		{"registration bad type", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"pending","registration_type":"person","texting_enabled_numbers":[]}`), "/registration_type", true},
		{"registration number not string", "texting_registration_status_changed",
			[]byte(`{"id":"r","created_at":"x","status":"approved","registration_type":"campaign","texting_enabled_numbers":[15551234567]}`), "/texting_enabled_numbers/0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := catalog.Validate(tt.eventType, tt.data)
			t.Logf("Validate(%s) = %v", tt.eventType, err)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, catalog.ErrInvalidData) {
				t.Fatalf("error %v is not a *ValidationError wrapping ErrInvalidData", err)
			}
			if ve.Field != tt.field {
				t.Errorf("Field = %q, want %q", ve.Field, tt.field)
			}
			if ve.Message == "" {
				t.Error("empty Message")
			}
		})
	}
}

func TestValidateUnknownType(t *testing.T) {
	t.Parallel()
	err := catalog.Validate("call_answered", []byte(docCallRecord))
	if !errors.Is(err, catalog.ErrUnknownType) {
		t.Fatalf("got %v, want ErrUnknownType", err)
	}
}

func TestDisposition(t *testing.T) {
	t.Parallel()
	record := func(status, category any) []byte {
		return edit(t, docCallRecord, func(m map[string]any) {
			m["status"], m["failure_category"] = status, category
		})
	}
	tests := []struct {
		name string
		data []byte
		want string
		err  string // substring of the error; "" for success
	}{
		{"doc example", []byte(docCallRecord), "call_voicemail", ""},
		{"category no_answer", record("NO_ANSWER", "no_answer"), "call_no_answer", ""},
		{"status NO_ANSWER alone", record("NO_ANSWER", nil), "call_no_answer", ""},
		{"status VOICEMAIL alone", record("VOICEMAIL", nil), "call_voicemail", ""},
		{"status BUSY alone", record("BUSY", nil), "call_busy", ""},
		{"category busy", record("BUSY", "busy"), "call_busy", ""},
		{"status FAILED alone", record("FAILED", nil), "call_failed", ""},
		{"category failed", record("FAILED", "failed"), "call_failed", ""},
		{"category without status", edit(t, docCallRecord, func(m map[string]any) { delete(m, "status"); m["failure_category"] = "busy" }), "call_busy", ""},
		{"completed", record("COMPLETED", nil), "", ""},
		{"answered", record("ANSWERED", nil), "", ""},
		{"contradiction busy/voicemail", record("BUSY", "voicemail"), "", `status "BUSY" contradicts failure_category "voicemail"`},
		{"answered with failure category", record("ANSWERED", "no_answer"), "", "contradicts"},
		{"completed with failure category", record("COMPLETED", "failed"), "", "contradicts"},
		{"unknown status", record("RINGING", nil), "", `unknown status "RINGING"`},
		{"lower-case status", record("busy", nil), "", "unknown status"},
		{"unknown category", record("FAILED", "declined"), "", `unknown failure_category "declined"`},
		{"neither", record(nil, nil), "", "neither status nor failure_category"},
		{"status not a string", record(3, nil), "", "must be strings"},
		{"not JSON", []byte(`{`), "", "invalid call disposition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := catalog.Disposition(tt.data)
			t.Logf("Disposition = %q, %v", got, err)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, catalog.ErrInvalidDisposition) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v; want ErrInvalidDisposition containing %q", err, tt.err)
			}
			if got != "" {
				t.Errorf("type %q returned with an error", got)
			}
		})
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	east := time.FixedZone("UTC+2", 2*3600)
	// Data with unusual spelling the delivery must not touch.
	odd := []byte(`{"b":1.50,"a":"\u00e9\/","id":1e3}`)
	tests := []struct {
		name      string
		eventType string
		at        time.Time
		data      []byte
		want      string
	}{
		{"flat keeps bytes", "call_completed", at, []byte(docCallRecord), docCallRecord},
		{"flat keeps odd spelling", "sms_sent", at, odd, string(odd)},
		{"documentation envelope", "number_purchased", at, []byte(`{"id":4821}`),
			`{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821}}`},
		{"released", "number_released", at, odd,
			`{"triggerEvent":"number.released","createdAt":"2026-06-30T19:30:00.000Z","payload":` + string(odd) + `}`},
		{"other family, non-UTC time, millis", "texting_registration_status_changed", time.Date(2026, 6, 30, 21, 30, 0, 123456789, east), []byte(`{}`),
			`{"triggerEvent":"texting_registration.status_changed","createdAt":"2026-06-30T19:30:00.123Z","payload":{}}`},
		{"contact", "contact_created", at, []byte(`{}`), `{"triggerEvent":"contact.created","createdAt":"2026-06-30T19:30:00.000Z","payload":{}}`},
		{"appointment", "new_appointment", at, []byte(`{}`), `{"triggerEvent":"appointment.created","createdAt":"2026-06-30T19:30:00.000Z","payload":{}}`},
		{"workflow", "workflow_contact_completed", at, []byte(`{}`), `{"triggerEvent":"workflow.contact_completed","createdAt":"2026-06-30T19:30:00.000Z","payload":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := catalog.Body(tt.eventType, tt.at, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("body: %s", got)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Error("body is not valid JSON")
			}
		})
	}
	if _, err := catalog.Body("nope", at, []byte(`{}`)); !errors.Is(err, catalog.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	data := []byte(docCallRecord)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := catalog.Validate("call_completed", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBody(b *testing.B) {
	at := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	data := []byte(docNumber)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.Body("number_purchased", at, data); err != nil {
			b.Fatal(err)
		}
	}
}
