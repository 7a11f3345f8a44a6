package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event type names, as subscribed to and sent in X-revdesk-Event-Type.
const (
	EventNewCall                          = "new_call"
	EventCallCompleted                    = "call_completed"
	EventCallNoAnswer                     = "call_no_answer"
	EventCallVoicemail                    = "call_voicemail"
	EventCallBusy                         = "call_busy"
	EventCallFailed                       = "call_failed"
	EventContactReplied                   = "contact_replied"
	EventSMSSent                          = "sms_sent"
	EventSMSDelivered                     = "sms_delivered"
	EventSMSFailed                        = "sms_failed"
	EventContactCreated                   = "contact_created"
	EventNumberPurchased                  = "number_purchased"
	EventNumberReleased                   = "number_released"
	EventTextingRegistrationStatusChanged = "texting_registration_status_changed"
	EventNewAppointment                   = "new_appointment"
	EventWorkflowContactCompleted         = "workflow_contact_completed"

	// Operational events: what RevDesk tells you about your own
	// subscriptions and deliveries.
	EventSubscriptionDisabled  = "subscription_disabled"
	EventSubscriptionEnabled   = "subscription_enabled"
	EventSubscriptionFailing   = "subscription_failing"
	EventSubscriptionRecovered = "subscription_recovered"
	EventDeliveryExhausted     = "delivery_exhausted"
)

var (
	// ErrUnknownEventType: the event type is not one this SDK knows.
	ErrUnknownEventType = errors.New("webhook: unknown event type")
	// ErrMalformedBody: the body does not have the event type's shape.
	ErrMalformedBody = errors.New("webhook: malformed body")
	// ErrWrongEventType: a typed accessor was called on another family's event.
	ErrWrongEventType = errors.New("webhook: accessor does not match the event type")
)

// payloadKind says which struct an event's data decodes into.
type payloadKind int

const (
	kindCall payloadKind = iota
	kindSMS
	kindNumber
	kindContact
	kindTextingRegistration
	kindAppointment
	kindWorkflowContactCompleted
	kindSubscriptionHealth
	kindDeliveryExhausted
)

// eventInfo is what the SDK must know per type; a non-empty trigger means the
// body is enveloped and signed.
type eventInfo struct {
	kind    payloadKind
	trigger string
}

var eventTypes = map[string]eventInfo{
	EventNewCall:                          {kindCall, ""},
	EventCallCompleted:                    {kindCall, ""},
	EventCallNoAnswer:                     {kindCall, ""},
	EventCallVoicemail:                    {kindCall, ""},
	EventCallBusy:                         {kindCall, ""},
	EventCallFailed:                       {kindCall, ""},
	EventContactReplied:                   {kindSMS, ""},
	EventSMSSent:                          {kindSMS, ""},
	EventSMSDelivered:                     {kindSMS, ""},
	EventSMSFailed:                        {kindSMS, ""},
	EventContactCreated:                   {kindContact, "contact.created"},
	EventNumberPurchased:                  {kindNumber, "number.purchased"},
	EventNumberReleased:                   {kindNumber, "number.released"},
	EventTextingRegistrationStatusChanged: {kindTextingRegistration, "texting_registration.status_changed"},
	EventNewAppointment:                   {kindAppointment, "appointment.created"},
	EventWorkflowContactCompleted:         {kindWorkflowContactCompleted, "workflow.contact_completed"},
	EventSubscriptionDisabled:             {kindSubscriptionHealth, "subscription.disabled"},
	EventSubscriptionEnabled:              {kindSubscriptionHealth, "subscription.enabled"},
	EventSubscriptionFailing:              {kindSubscriptionHealth, "subscription.failing"},
	EventSubscriptionRecovered:            {kindSubscriptionHealth, "subscription.recovered"},
	EventDeliveryExhausted:                {kindDeliveryExhausted, "delivery.exhausted"},
}

// Signed reports whether deliveries of eventType carry X-revdesk-Signature-256.
func Signed(eventType string) bool {
	return eventTypes[eventType].trigger != ""
}

// CallRecord is the data of new_call, call_completed, call_no_answer,
// call_voicemail, call_busy and call_failed. Null strings decode as "".
type CallRecord struct {
	ID                  string    `json:"id"`
	FromNumber          string    `json:"from_number"`
	ToNumber            string    `json:"to_number"`
	Direction           string    `json:"direction"`
	DurationSeconds     int       `json:"duration_seconds"`
	Status              string    `json:"status"`
	FailureCode         string    `json:"failure_code"`
	FailureCategory     string    `json:"failure_category"`
	DisconnectionReason string    `json:"disconnection_reason"`
	CreatedAt           time.Time `json:"created_at"`
}

// SMSMessage is the data of contact_replied (inbound) and sms_sent,
// sms_delivered, sms_failed (outbound).
type SMSMessage struct {
	ID           string    `json:"id"`
	PhoneNumber  string    `json:"phone_number"`
	FromNumber   string    `json:"from_number"`
	Direction    string    `json:"direction"`
	Status       string    `json:"status"`
	ContactToken string    `json:"contact_token"`
	ProviderID   string    `json:"provider_id"`
	ErrorMessage string    `json:"error_message"`
	Channel      string    `json:"channel"`
	CreatedAt    time.Time `json:"created_at"`
}

// SubscriptionHealth is the payload of the operational events about a
// subscription. By is "api", "dashboard", "automatic_recovery" or
// "automatic" (410 Gone, failing too long).
type SubscriptionHealth struct {
	ID                  string     `json:"id"`
	SubscriptionID      string     `json:"subscription_id"`
	WebhookURL          string     `json:"webhook_url"`
	EventType           string     `json:"event_type"`
	Reason              string     `json:"reason"`
	By                  string     `json:"by"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since"`
	CreatedAt           time.Time  `json:"created_at"`
}

// DeliveryExhausted is the payload of delivery_exhausted: a delivery that
// failed for good. LastStatusCode is 0 when the last attempt had no response.
type DeliveryExhausted struct {
	ID             string    `json:"id"`
	DeliveryID     string    `json:"delivery_id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	WebhookURL     string    `json:"webhook_url"`
	EventType      string    `json:"event_type"`
	Attempts       int       `json:"attempts"`
	LastStatusCode int       `json:"last_status_code"`
	LastError      string    `json:"last_error"`
	CreatedAt      time.Time `json:"created_at"`
}

// NumberLifecycle is the payload of number_purchased and number_released.
type NumberLifecycle struct {
	ID             int64  `json:"id"`
	PhoneNumber    string `json:"phone_number"`
	AreaCode       string `json:"area_code"`
	Status         string `json:"status"`
	OrganizationID string `json:"organization_id"`
}

// Contact is the payload of contact_created.
type Contact struct {
	ID          string    `json:"id"`
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	PhoneNumber string    `json:"phone_number"`
	Email       string    `json:"email"`
	CreatedAt   time.Time `json:"created_at"`
}

// TextingRegistration is the payload of texting_registration_status_changed.
// On campaign approval TextingEnabledNumbers lists the numbers cleared to send.
type TextingRegistration struct {
	ID                    string    `json:"id"`
	RegistrationType      string    `json:"registration_type"` // brand or campaign
	Status                string    `json:"status"`
	TextingEnabledNumbers []string  `json:"texting_enabled_numbers"`
	RejectionReason       string    `json:"rejection_reason"`
	CreatedAt             time.Time `json:"created_at"`
}

// Appointment is the payload of new_appointment.
type Appointment struct {
	ID         string    `json:"id"`
	ContactID  string    `json:"contact_id"`
	CalendarID string    `json:"calendar_id"`
	Title      string    `json:"title"`
	StartTime  time.Time `json:"start_time"`
	EndTime    time.Time `json:"end_time"`
	CreatedAt  time.Time `json:"created_at"`
}

// WorkflowContactCompleted is the payload of workflow_contact_completed.
type WorkflowContactCompleted struct {
	ID         string    `json:"id"`
	WorkflowID string    `json:"workflow_id"`
	ContactID  string    `json:"contact_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// Envelope is the body of enveloped (signed) event types.
type Envelope struct {
	TriggerEvent string          `json:"triggerEvent"`
	CreatedAt    time.Time       `json:"createdAt"`
	Payload      json.RawMessage `json:"payload"`
}

// Event is one parsed delivery.
type Event struct {
	Type string
	// Data is the event's data: the whole body for flat types, the
	// envelope's payload for enveloped ones.
	Data json.RawMessage
	// TriggerEvent and CreatedAt come from the envelope; empty for flat types.
	TriggerEvent string
	CreatedAt    time.Time
	// EventID, DeliveryID and SubscriptionID are filled by Handler from the
	// request headers. Deduplicate on DeliveryID (see Deduplicator).
	EventID, DeliveryID, SubscriptionID string
	// SourceEventID is, on a derived disposition event, the call_completed
	// event it came from ("" otherwise); Handler fills it.
	SourceEventID string
	// Test is set by Handler on a delivery of "send test event": signed
	// like any other, with example or chosen data, sent to this
	// subscription alone.
	Test bool
	// Authenticated is set by Handler: a signature was verified. It is false
	// for call and SMS deliveries without Standard Webhooks (unsigned by the
	// documentation) and for an allowed no-secret-provided.
	Authenticated bool
}

// Parse reads a delivery body of eventType (the X-revdesk-Event-Type
// header). It does not verify signatures: call Verify first, or use Handler.
// For enveloped types the envelope's triggerEvent must match eventType, so
// a signed body cannot be passed off as another event type.
func Parse(eventType string, body []byte) (*Event, error) {
	info, ok := eventTypes[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	if info.trigger == "" {
		if !isObject(body) {
			return nil, fmt.Errorf("%w: %s body must be a JSON object", ErrMalformedBody, eventType)
		}
		return &Event{Type: eventType, Data: body}, nil
	}
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %s envelope: %v", ErrMalformedBody, eventType, err)
	}
	if env.TriggerEvent != info.trigger {
		return nil, fmt.Errorf("%w: triggerEvent %q does not match event type %s (want %q)", ErrMalformedBody, env.TriggerEvent, eventType, info.trigger)
	}
	if !isObject(env.Payload) {
		return nil, fmt.Errorf("%w: %s payload must be a JSON object", ErrMalformedBody, eventType)
	}
	return &Event{Type: eventType, Data: env.Payload, TriggerEvent: env.TriggerEvent, CreatedAt: env.CreatedAt}, nil
}

func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// Call decodes the data of a call event.
func (e *Event) Call() (*CallRecord, error) { return decode[CallRecord](e, kindCall) }

// SMS decodes the data of an SMS event.
func (e *Event) SMS() (*SMSMessage, error) { return decode[SMSMessage](e, kindSMS) }

// Number decodes the payload of a number lifecycle event.
func (e *Event) Number() (*NumberLifecycle, error) { return decode[NumberLifecycle](e, kindNumber) }

// Contact decodes the payload of contact_created.
func (e *Event) Contact() (*Contact, error) { return decode[Contact](e, kindContact) }

// TextingRegistration decodes the payload of texting_registration_status_changed.
func (e *Event) TextingRegistration() (*TextingRegistration, error) {
	return decode[TextingRegistration](e, kindTextingRegistration)
}

// Appointment decodes the payload of new_appointment.
func (e *Event) Appointment() (*Appointment, error) { return decode[Appointment](e, kindAppointment) }

// WorkflowContactCompleted decodes the payload of workflow_contact_completed.
func (e *Event) WorkflowContactCompleted() (*WorkflowContactCompleted, error) {
	return decode[WorkflowContactCompleted](e, kindWorkflowContactCompleted)
}

// SubscriptionHealth decodes the payload of subscription_disabled,
// subscription_enabled, subscription_failing and subscription_recovered.
func (e *Event) SubscriptionHealth() (*SubscriptionHealth, error) {
	return decode[SubscriptionHealth](e, kindSubscriptionHealth)
}

// DeliveryExhausted decodes the payload of delivery_exhausted.
func (e *Event) DeliveryExhausted() (*DeliveryExhausted, error) {
	return decode[DeliveryExhausted](e, kindDeliveryExhausted)
}

// decode is lazy so that Parse succeeds on fields this SDK version cannot
// type (new fields are ignored; a malformed one fails only its accessor).
func decode[T any](e *Event, k payloadKind) (*T, error) {
	if info, ok := eventTypes[e.Type]; !ok || info.kind != k {
		return nil, fmt.Errorf("%w: event type %q", ErrWrongEventType, e.Type)
	}
	v := new(T)
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("%w: %s data: %v", ErrMalformedBody, e.Type, err)
	}
	return v, nil
}
