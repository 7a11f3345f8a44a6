/** Call record: data of new_call, call_completed and the call disposition events (call_no_answer, call_voicemail, call_busy, call_failed). Extra fields are allowed. */
export interface CallRecord {
    /** Call id, e.g. call_abc123. */
    id: string;
    /** Calling number, E.164. */
    from_number: string;
    /** Called number, E.164. */
    to_number: string;
    /** outbound or inbound. */
    direction: string;
    /** Talk time in whole seconds; 0 when never answered. */
    duration_seconds: number;
    /** COMPLETED, ANSWERED, NO_ANSWER, VOICEMAIL, BUSY or FAILED; in-progress states on new_call. */
    status: string;
    /** Provider-specific failure code, null on success. */
    failure_code: string | null;
    /** no_answer, voicemail, busy or failed; null on success. */
    failure_category: string | null;
    /** Why the call was disconnected, when known. */
    disconnection_reason: string | null;
    /** RFC 3339 time the call was created. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** SMS message: data of contact_replied (inbound) and sms_sent, sms_delivered, sms_failed (outbound). Extra fields are allowed. */
export interface SMSMessage {
    /** Message id. */
    id: string;
    /** The contact's number, E.164. */
    phone_number: string;
    /** Sending number, E.164. */
    from_number: string;
    /** outbound, or inbound for contact_replied. */
    direction: string;
    /** Carrier status, e.g. sent, delivered, failed, received. */
    status: string;
    /** Opaque contact reference. */
    contact_token: string | null;
    /** The carrier's message id. */
    provider_id: string | null;
    /** Carrier error, null unless the message failed. */
    error_message: string | null;
    /** sms (or mms). */
    channel: string;
    /** RFC 3339 time the message was created. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Contact: payload of contact_created (contact.created). Extra fields are allowed. */
export interface Contact {
    /** Contact id. */
    id: string;
    first_name?: string | null;
    last_name?: string | null;
    /** E.164. */
    phone_number?: string | null;
    email?: string | null;
    /** RFC 3339 time the contact was created. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Phone number lifecycle: payload of number_purchased (number.purchased) and number_released (number.released). Extra fields are allowed. */
export interface NumberLifecycle {
    /** Numeric id of the phone number. */
    id: number;
    /** The number, E.164. */
    phone_number: string;
    /** Area code as a string, e.g. "555". */
    area_code: string;
    /** ACTIVE after purchase, RELEASED after release. */
    status: string;
    /** Owning organization. */
    organization_id: string | null;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** A2P texting registration: payload of texting_registration_status_changed (texting_registration.status_changed). texting_enabled_numbers is always present and lists at least one number when a campaign is approved. Extra fields are allowed. */
export interface TextingRegistration {
    /** Registration id. */
    id: string;
    registration_type: "brand" | "campaign";
    /** e.g. pending, approved, rejected. */
    status: string;
    /** Numbers (E.164) cleared to send. */
    texting_enabled_numbers: string[];
    rejection_reason?: string | null;
    /** RFC 3339 time of the status change. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Appointment: payload of new_appointment (appointment.created). Extra fields are allowed. */
export interface Appointment {
    /** Appointment id. */
    id: string;
    contact_id?: string | null;
    calendar_id?: string | null;
    title?: string | null;
    /** RFC 3339 date-time. */
    start_time?: string | null;
    /** RFC 3339 date-time. */
    end_time?: string | null;
    /** RFC 3339 time the booking was made. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Workflow completion: payload of workflow_contact_completed (workflow.contact_completed). Extra fields are allowed. */
export interface WorkflowContactCompleted {
    /** Id of this completion. */
    id: string;
    workflow_id?: string | null;
    contact_id?: string | null;
    /** RFC 3339 time the contact finished the workflow. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Subscription health: payload of the operational events about a subscription: subscription_disabled (subscription.disabled), subscription_enabled (subscription.enabled), subscription_failing (subscription.failing) and subscription_recovered (subscription.recovered). RevDesk produces them; they cannot be ingested. */
export interface SubscriptionHealth {
    /** The subscription's id (whk_…). */
    id: string;
    /** The subscription's id (whk_…). */
    subscription_id: string;
    /** The subscription's webhook URL. */
    webhook_url: string;
    /** The event type the subscription receives. */
    event_type: string;
    /** subscription_disabled: why. */
    reason?: string;
    /** subscription_disabled and subscription_enabled: who: the API, the dashboard, automatic recovery, or the engine itself (410 Gone, failing too long). */
    by?: "api" | "dashboard" | "automatic_recovery" | "automatic";
    /** subscription_failing, subscription_recovered and subscription_disabled: failed attempts in a row. */
    consecutive_failures?: number;
    /** Time of the first failed attempt of the streak. RFC 3339 date-time. */
    failing_since?: string | null;
    /** When it happened. RFC 3339 date-time. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** Delivery failed for good: payload of delivery_exhausted (delivery.exhausted): a delivery's attempts are exhausted, or it was refused for good (410 Gone). RevDesk produces it; it cannot be ingested. */
export interface DeliveryExhausted {
    /** The delivery's id (dlv_…). */
    id: string;
    /** The delivery's id (dlv_…). */
    delivery_id: string;
    /** The event it carried (evt_…). */
    event_id: string;
    /** The subscription's id (whk_…). */
    subscription_id: string;
    /** The subscription's webhook URL. */
    webhook_url: string;
    /** The type of the event it carried. */
    event_type: string;
    /** Attempts made. */
    attempts: number;
    /** HTTP status of the last attempt; null without a response. */
    last_status_code?: number | null;
    /** What went wrong last. */
    last_error?: string;
    /** When it happened. RFC 3339 date-time. */
    created_at: string;
    /** Fields added later are delivered too. */
    [field: string]: unknown;
}
/** What the SDK knows of each event type: its body shape and whether the documentation signs it. */
export declare const EVENT_TYPES: {
    readonly new_call: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly call_completed: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly call_no_answer: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly call_voicemail: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly call_busy: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly call_failed: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly contact_replied: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly sms_sent: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly sms_delivered: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly sms_failed: {
        readonly shape: "flat";
        readonly signed: false;
        readonly triggerEvent: null;
    };
    readonly contact_created: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "contact.created";
    };
    readonly number_purchased: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "number.purchased";
    };
    readonly number_released: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "number.released";
    };
    readonly texting_registration_status_changed: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "texting_registration.status_changed";
    };
    readonly new_appointment: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "appointment.created";
    };
    readonly workflow_contact_completed: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "workflow.contact_completed";
    };
    readonly subscription_disabled: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "subscription.disabled";
    };
    readonly subscription_enabled: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "subscription.enabled";
    };
    readonly subscription_failing: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "subscription.failing";
    };
    readonly subscription_recovered: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "subscription.recovered";
    };
    readonly delivery_exhausted: {
        readonly shape: "enveloped";
        readonly signed: true;
        readonly triggerEvent: "delivery.exhausted";
    };
};
/** One of the 21 event types (X-revdesk-Event-Type). */
export type EventType = keyof typeof EVENT_TYPES;
/** The data of each event type: the body of flat types, the envelope's payload otherwise. */
export interface EventDataMap {
    new_call: CallRecord;
    call_completed: CallRecord;
    call_no_answer: CallRecord;
    call_voicemail: CallRecord;
    call_busy: CallRecord;
    call_failed: CallRecord;
    contact_replied: SMSMessage;
    sms_sent: SMSMessage;
    sms_delivered: SMSMessage;
    sms_failed: SMSMessage;
    contact_created: Contact;
    number_purchased: NumberLifecycle;
    number_released: NumberLifecycle;
    texting_registration_status_changed: TextingRegistration;
    new_appointment: Appointment;
    workflow_contact_completed: WorkflowContactCompleted;
    subscription_disabled: SubscriptionHealth;
    subscription_enabled: SubscriptionHealth;
    subscription_failing: SubscriptionHealth;
    subscription_recovered: SubscriptionHealth;
    delivery_exhausted: DeliveryExhausted;
}
