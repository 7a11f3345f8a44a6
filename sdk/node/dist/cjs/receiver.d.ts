import { type EventDataMap, type EventType } from "./events.generated.js";
import { type HeaderSource, type RawBody } from "./verify.js";
/**
 * Which signature a Verifier insists on, beyond the documentation's rule that
 * signed event types carry X-revdesk-Signature-256:
 * - "none" (default): the documented contract. Call and SMS deliveries, which
 *   the documentation leaves unsigned, pass unauthenticated
 *   (`event.authenticated` false); Standard Webhooks headers are checked when present.
 * - "signature": every delivery needs a valid signature of either kind, so call
 *   and SMS deliveries need the subscription's Standard Webhooks opt-in, and
 *   no-secret-provided is refused even with allowNoSecret.
 * - "standard_webhooks": every delivery needs valid Standard Webhooks headers,
 *   so none can be replayed outside the tolerance.
 */
export type Requirement = "none" | "signature" | "standard_webhooks";
export interface VerifierOptions {
    /**
     * Signing secrets, tried in order. During a rotation overlap hold the new
     * and the previous one: the documented header keeps the previous secret
     * until `new_secret_active_at`, the Standard Webhooks header carries both.
     */
    secrets: string | readonly string[];
    /** How far webhook-timestamp may be from now, in seconds (default 300). */
    toleranceSeconds?: number;
    /** Accept no-secret-provided on signed types, unauthenticated. Off by default. */
    allowNoSecret?: boolean;
    require?: Requirement;
    /** The clock (default: the system's). */
    now?: () => Date;
}
/** A verified, parsed delivery; `type` discriminates `data`. */
export interface WebhookEvent<T extends EventType = EventType> {
    type: T;
    /** The body of flat types; the envelope's payload otherwise. */
    data: EventDataMap[T];
    /** From the envelope; null for flat (call and SMS) types. */
    triggerEvent: string | null;
    createdAt: string | null;
    eventId: string | null;
    /** Deduplicate on it: delivery is at-least-once (see Deduplicator). */
    deliveryId: string | null;
    subscriptionId: string | null;
    /** On a derived disposition event (call_no_answer, call_voicemail, call_busy, call_failed): the call_completed event it came from. */
    sourceEventId: string | null;
    /** A signature was verified (false for an unsigned call/SMS delivery or an allowed no-secret-provided). */
    authenticated: boolean;
}
/** The union of WebhookEvent over all event types: switch on `event.type`. */
export type AnyWebhookEvent = {
    [K in EventType]: WebhookEvent<K>;
}[EventType];
/** What parseEvent returns: the body's part of an event, still discriminated by `type`. */
export type ParsedEvent = {
    [K in EventType]: Pick<WebhookEvent<K>, "type" | "data" | "triggerEvent" | "createdAt">;
}[EventType];
export declare function isEventType(name: string): name is EventType;
/**
 * Parses a delivery body of eventType (the X-revdesk-Event-Type header)
 * without verifying it. For enveloped types the envelope's triggerEvent must
 * match, so a signed body cannot be passed off as another event type.
 */
export declare function parseEvent(eventType: string, body: RawBody): ParsedEvent;
/** Verifies and parses whole deliveries against a receiver's configuration. */
export declare class Verifier {
    #private;
    constructor(options: VerifierOptions);
    /**
     * Checks a delivery's signatures and returns whether one was verified.
     * Throws WebhookVerificationError (its `code` and `status` say why).
     */
    verifyRequest(rawBody: RawBody, headers: HeaderSource): {
        authenticated: boolean;
    };
    /** Verifies a delivery and parses it: what a route handler needs. */
    receive(rawBody: RawBody, headers: HeaderSource): AnyWebhookEvent;
}
export interface DeduplicatorOptions {
    /** Most ids remembered; the oldest are forgotten first (default 100,000). */
    maxEntries?: number;
    /** How long an id is remembered (default 48 h: the default retry schedule spans about 33 h). */
    ttlSeconds?: number;
    now?: () => Date;
}
/**
 * Remembers delivery ids (X-revdesk-Delivery-Id, the same on every attempt)
 * in bounded memory, in one process: delivery is at-least-once, so a
 * receiver may see an attempt again after answering it.
 */
export declare class Deduplicator {
    #private;
    constructor(options?: DeduplicatorOptions);
    /** Whether id is new; remembers it. Call forget(id) if processing then fails, so the retry is processed. */
    first(id: string | null | undefined): boolean;
    forget(id: string): void;
    get size(): number;
}
