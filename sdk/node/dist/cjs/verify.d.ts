/** Headers RevDesk sets on deliveries (the signature only on signed event types). */
export declare const HEADER_SIGNATURE_256 = "X-revdesk-Signature-256";
export declare const HEADER_EVENT_TYPE = "X-revdesk-Event-Type";
export declare const HEADER_EVENT_ID = "X-revdesk-Event-Id";
export declare const HEADER_DELIVERY_ID = "X-revdesk-Delivery-Id";
export declare const HEADER_SUBSCRIPTION_ID = "X-revdesk-Subscription-Id";
/** On deliveries of derived disposition events only: the call_completed event they came from. */
export declare const HEADER_SOURCE_EVENT_ID = "X-revdesk-Source-Event-Id";
/** Standard Webhooks headers, sent when the subscription has "standard_webhooks": true. */
export declare const HEADER_WEBHOOK_ID = "webhook-id";
export declare const HEADER_WEBHOOK_TIMESTAMP = "webhook-timestamp";
export declare const HEADER_WEBHOOK_SIGNATURE = "webhook-signature";
/** The X-revdesk-Signature-256 value of a subscription created without a secret. */
export declare const NO_SECRET = "no-secret-provided";
/** How far webhook-timestamp may be from now unless told otherwise (the Standard Webhooks default). */
export declare const DEFAULT_TOLERANCE_SECONDS = 300;
/** Why a delivery was refused; the same names as the shared test vectors. */
export type VerificationErrorCode = "missing_event_type" | "unknown_event_type" | "malformed_body" | "missing_signature" | "no_secret" | "invalid_signature" | "timestamp_too_old" | "timestamp_too_new";
/** A refused delivery. `status` is the HTTP status to answer: 400 for a bad request, 401 for a bad signature. */
export declare class WebhookVerificationError extends Error {
    readonly code: VerificationErrorCode;
    readonly status: 400 | 401;
    constructor(code: VerificationErrorCode, message: string);
}
/** The body exactly as received. A string is taken as its UTF-8 bytes; never pass re-serialised JSON. */
export type RawBody = Uint8Array | string;
/**
 * Request headers: Node's `req.headers`, a Fetch `Headers` (Next.js, Deno,
 * Bun, workers), or any object; names are matched case-insensitively.
 */
export type HeaderSource = {
    get(name: string): string | null;
} | Record<string, string | readonly string[] | undefined>;
/** Reads one header; repeated values are joined with spaces. */
export declare function getHeader(headers: HeaderSource, name: string): string | undefined;
/**
 * Checks X-revdesk-Signature-256: the lowercase hex HMAC-SHA256 of the raw
 * body keyed with the UTF-8 bytes of secret, compared in constant time.
 * Throws WebhookVerificationError: `missing_signature`, `no_secret` (the
 * header is no-secret-provided) or `invalid_signature`.
 */
export declare function verifySignature(rawBody: RawBody, header: string | null | undefined, secret: string): void;
/** The Standard Webhooks key: the base64-decoded part of a whsec_ secret, otherwise the secret's UTF-8 bytes. */
export declare function standardKey(secret: string): Buffer;
export interface StandardOptions {
    /** How far webhook-timestamp may be from now, in seconds (default 300). */
    toleranceSeconds?: number;
    /** The current time (default: the clock). */
    now?: Date;
}
/**
 * Checks the Standard Webhooks headers: webhook-timestamp within the
 * tolerance of now, and one "v1," signature of webhook-signature (there are
 * two during a secret rotation) matching HMAC-SHA256 of "id.timestamp.body".
 * Throws WebhookVerificationError: `missing_signature`, `timestamp_too_old`,
 * `timestamp_too_new` or `invalid_signature`.
 */
export declare function verifyStandardWebhooks(rawBody: RawBody, headers: HeaderSource, secret: string, options?: StandardOptions): void;
