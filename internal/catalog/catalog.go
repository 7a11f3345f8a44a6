// Package catalog is the single source of truth about the 21 event types:
// their family, delivery shape, signing, internal trigger name, JSON Schema
// for data, example, and the rules deriving call dispositions.
// The schemas and examples live in embedded .json files so they can be
// published and reviewed as data.
package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Family groups event types by what happened.
type Family string

// The event families of SPEC §3.
const (
	FamilyCall   Family = "call"
	FamilySMS    Family = "sms"
	FamilyNumber Family = "number"
	FamilyOther  Family = "other"
	// FamilyOperational: what RevDesk tells a workspace about its own
	// subscriptions and deliveries (internal/opevents); never ingested.
	FamilyOperational Family = "operational"
)

// Shape is how an event's data becomes the delivered body.
type Shape string

const (
	// ShapeFlat delivers data itself as the body.
	ShapeFlat Shape = "flat"
	// ShapeEnveloped wraps data as {"triggerEvent","createdAt","payload"}.
	ShapeEnveloped Shape = "enveloped"
)

// EventType describes one subscribable event type. Schema and Example are
// shared with the catalog and must not be modified.
type EventType struct {
	Name         string          `json:"name"`
	Family       Family          `json:"family"`
	Shape        Shape           `json:"shape"`
	Signed       bool            `json:"signed"`
	TriggerEvent string          `json:"trigger_event,omitempty"`
	Description  string          `json:"description"`
	Derived      bool            `json:"derived"`
	Schema       json.RawMessage `json:"schema"`
	Example      json.RawMessage `json:"example"`
}

var (
	// ErrUnknownType: the name is not one of the 21 event types.
	ErrUnknownType = errors.New("unknown event type")
	// ErrInvalidData: data does not match the event type's schema.
	ErrInvalidData = errors.New("invalid event data")
	// ErrInvalidDisposition: a call record's status and failure_category
	// are unknown or contradict each other.
	ErrInvalidDisposition = errors.New("invalid call disposition")
)

// ValidationError names the first offending field of invalid data.
type ValidationError struct {
	// Field is a JSON pointer into data ("/from_number"); "" for data itself.
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "data: " + e.Message
	}
	return "data" + e.Field + ": " + e.Message
}

// Unwrap lets callers match every validation failure with ErrInvalidData.
func (e *ValidationError) Unwrap() error { return ErrInvalidData }

//go:embed schemas/*.json examples/*.json
var files embed.FS

// definition is the Go-side half of an event type; schemaFile names the
// shared schema in schemas/, the example is examples/<name>.json.
type definition struct {
	name, trigger, description, schemaFile string
	family                                 Family
	derived                                bool
}

// definitions are in documentation order; descriptions are the documentation's.
var definitions = []definition{
	{"new_call", "", "A call starts.", "call", FamilyCall, false},
	{"call_completed", "", "A call ends (any outcome).", "call", FamilyCall, false},
	{"call_no_answer", "", "A call ended unanswered (rang out).", "call", FamilyCall, true},
	{"call_voicemail", "", "A call reached voicemail / an answering machine.", "call", FamilyCall, true},
	{"call_busy", "", "The destination was busy.", "call", FamilyCall, true},
	{"call_failed", "", "A call failed (declined, unreachable, carrier rejection).", "call", FamilyCall, true},
	{"contact_replied", "", "An inbound SMS was received.", "sms", FamilySMS, false},
	{"sms_sent", "", "An outbound SMS was accepted by the carrier.", "sms", FamilySMS, false},
	{"sms_delivered", "", "An outbound SMS was delivered to the handset.", "sms", FamilySMS, false},
	{"sms_failed", "", "An outbound SMS failed / was undelivered.", "sms", FamilySMS, false},
	{"contact_created", "contact.created", "A new contact was created.", "contact", FamilyOther, false},
	{"number_purchased", "number.purchased", "A phone number finished provisioning and went active.", "number", FamilyNumber, false},
	{"number_released", "number.released", "A phone number was released from your workspace.", "number", FamilyNumber, false},
	{"texting_registration_status_changed", "texting_registration.status_changed", "Your A2P texting registration (brand or campaign) was approved or rejected by carriers. On campaign approval the payload lists texting_enabled_numbers — the moment to start sending.", "texting_registration", FamilyOther, false},
	{"new_appointment", "appointment.created", "A booking was created.", "appointment", FamilyOther, false},
	{"workflow_contact_completed", "workflow.contact_completed", "A contact finished a workflow.", "workflow_contact_completed", FamilyOther, false},
	{"subscription_disabled", "subscription.disabled", "A subscription was disabled: by hand, after a 410 Gone, or after failing for --disable-after (the reason says which).", "subscription_status", FamilyOperational, false},
	{"subscription_enabled", "subscription.enabled", "A disabled subscription was enabled again: through the API, the dashboard, or by automatic recovery.", "subscription_status", FamilyOperational, false},
	{"subscription_failing", "subscription.failing", "A subscription's deliveries failed --failing-after times in a row (once per streak).", "subscription_status", FamilyOperational, false},
	{"subscription_recovered", "subscription.recovered", "A delivery succeeded after such a streak of failures.", "subscription_status", FamilyOperational, false},
	{"delivery_exhausted", "delivery.exhausted", "A delivery failed for good: its attempts are exhausted, or the receiver refused it for good.", "delivery_exhausted", FamilyOperational, false},
}

type entry struct {
	EventType
	schema *jsonschema.Schema
}

// Built once at start-up: the embedded files are part of the program, so a
// broken one is a programming error and panics (the tests load them).
var (
	types   []EventType
	byName  map[string]*entry
	printer = message.NewPrinter(language.English)
)

func init() {
	var err error
	if types, byName, err = load(); err != nil {
		panic("catalog: " + err.Error())
	}
}

func load() ([]EventType, map[string]*entry, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	compiled := map[string]*jsonschema.Schema{}
	raw := map[string]json.RawMessage{}
	list := make([]EventType, 0, len(definitions))
	index := make(map[string]*entry, len(definitions))
	for _, d := range definitions {
		if _, ok := compiled[d.schemaFile]; !ok {
			b, err := files.ReadFile("schemas/" + d.schemaFile + ".json")
			if err != nil {
				return nil, nil, err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				return nil, nil, fmt.Errorf("schema %s: %w", d.schemaFile, err)
			}
			url := "mem:///" + d.schemaFile + ".json"
			if err := c.AddResource(url, doc); err != nil {
				return nil, nil, err
			}
			if compiled[d.schemaFile], err = c.Compile(url); err != nil {
				return nil, nil, err
			}
			raw[d.schemaFile] = bytes.TrimSpace(b)
		}
		example, err := files.ReadFile("examples/" + d.name + ".json")
		if err != nil {
			return nil, nil, err
		}
		family := d.family
		shape, signed := ShapeFlat, false
		if family != FamilyCall && family != FamilySMS {
			shape, signed = ShapeEnveloped, true
		}
		et := EventType{
			Name: d.name, Family: family, Shape: shape, Signed: signed,
			TriggerEvent: d.trigger, Description: d.description, Derived: d.derived,
			Schema: raw[d.schemaFile], Example: bytes.TrimSpace(example),
		}
		list = append(list, et)
		index[d.name] = &entry{EventType: et, schema: compiled[d.schemaFile]}
	}
	return list, index, nil
}

// All returns the 21 event types: the documentation's in its order, then
// the operational ones.
func All() []EventType { return slices.Clone(types) }

// Lookup returns the event type called name.
func Lookup(name string) (EventType, bool) {
	e, ok := byName[name]
	if !ok {
		return EventType{}, false
	}
	return e.EventType, true
}

// Validate checks data against the schema of eventType. It returns an error
// wrapping ErrUnknownType, or a *ValidationError (wrapping ErrInvalidData)
// naming the offending field.
func Validate(eventType string, data []byte) error {
	e, ok := byName[eventType]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownType, eventType)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return &ValidationError{Message: "not valid JSON: " + err.Error()}
	}
	err = e.schema.Validate(doc)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	return firstViolation(ve)
}

// firstViolation reduces the library's error tree to one field. Properties
// are checked in map order, so the leaves are sorted to report the same
// field every time.
func firstViolation(ve *jsonschema.ValidationError) *ValidationError {
	var leaves []*ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) > 0 {
			for _, c := range v.Causes {
				walk(c)
			}
			return
		}
		field := pointer(v.InstanceLocation)
		if req, ok := v.ErrorKind.(*kind.Required); ok {
			for _, m := range req.Missing {
				leaves = append(leaves, &ValidationError{Field: field + "/" + escape(m), Message: "required field is missing"})
			}
			return
		}
		leaves = append(leaves, &ValidationError{Field: field, Message: v.ErrorKind.LocalizedString(printer)})
	}
	walk(ve)
	if len(leaves) == 0 { // defensive: a failure always has a leaf
		return &ValidationError{Message: ve.Error()}
	}
	slices.SortStableFunc(leaves, func(a, b *ValidationError) int { return strings.Compare(a.Field, b.Field) })
	return leaves[0]
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escape(t))
	}
	return sb.String()
}

// escape applies RFC 6901 escaping to one reference token.
func escape(token string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(token)
}

// Dispositions by failure_category and by status (SPEC §3).
var (
	byCategory = map[string]string{
		"no_answer": "call_no_answer",
		"voicemail": "call_voicemail",
		"busy":      "call_busy",
		"failed":    "call_failed",
	}
	byStatus = map[string]string{
		"NO_ANSWER": "call_no_answer",
		"VOICEMAIL": "call_voicemail",
		"BUSY":      "call_busy",
		"FAILED":    "call_failed",
		"COMPLETED": "",
		"ANSWERED":  "",
	}
)

// Disposition returns the disposition event type a call_completed record
// also fires ("" for an answered call). A status or failure_category that is
// unknown, or the two disagreeing, is an error wrapping ErrInvalidDisposition
// rather than a guess. Matching is exact: the platform sends statuses upper
// case and categories lower case.
func Disposition(data []byte) (string, error) {
	var rec struct {
		Status          *string `json:"status"`
		FailureCategory *string `json:"failure_category"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return "", fmt.Errorf("%w: status and failure_category must be strings or null: %v", ErrInvalidDisposition, err)
	}
	fromCategory, hasCategory := "", rec.FailureCategory != nil
	if hasCategory {
		var ok bool
		if fromCategory, ok = byCategory[*rec.FailureCategory]; !ok {
			return "", fmt.Errorf("%w: unknown failure_category %q (want no_answer, voicemail, busy, failed or null)", ErrInvalidDisposition, *rec.FailureCategory)
		}
	}
	if rec.Status == nil {
		if !hasCategory {
			return "", fmt.Errorf("%w: call record has neither status nor failure_category", ErrInvalidDisposition)
		}
		return fromCategory, nil
	}
	fromStatus, ok := byStatus[*rec.Status]
	if !ok {
		return "", fmt.Errorf("%w: unknown status %q (want COMPLETED, ANSWERED, NO_ANSWER, VOICEMAIL, BUSY or FAILED)", ErrInvalidDisposition, *rec.Status)
	}
	if hasCategory && fromStatus != fromCategory {
		// Includes an answered status with a failure category.
		return "", fmt.Errorf("%w: status %q contradicts failure_category %q", ErrInvalidDisposition, *rec.Status, *rec.FailureCategory)
	}
	return fromStatus, nil
}

// createdAtLayout is UTC with exactly three fractional digits and Z
// (sub-millisecond precision is truncated).
const createdAtLayout = "2006-01-02T15:04:05.000Z"

// Body returns the bytes delivered for an event. Flat types deliver data
// itself (the same slice, unchanged); enveloped types wrap it, without re-encoding data, so the
// producer's key order, number spelling and escapes reach the receiver (and
// the signature covers exactly those bytes).
func Body(eventType string, occurredAt time.Time, data []byte) ([]byte, error) {
	e, ok := byName[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, eventType)
	}
	if e.Shape == ShapeFlat {
		return data, nil
	}
	const (
		open   = `{"triggerEvent":"`
		middle = `","createdAt":"`
		tail   = `","payload":`
	)
	b := make([]byte, 0, len(open)+len(e.TriggerEvent)+len(middle)+len(createdAtLayout)+len(tail)+len(data)+1)
	b = append(b, open...)
	b = append(b, e.TriggerEvent...) // trigger names are plain ASCII, no escaping needed
	b = append(b, middle...)
	b = occurredAt.UTC().AppendFormat(b, createdAtLayout)
	b = append(b, tail...)
	b = append(b, data...)
	b = append(b, '}')
	return b, nil
}
