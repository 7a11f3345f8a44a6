import { createHmac, timingSafeEqual } from "node:crypto";
/** Headers RevDesk sets on deliveries (the signature only on signed event types). */
export const HEADER_SIGNATURE_256 = "X-revdesk-Signature-256";
export const HEADER_EVENT_TYPE = "X-revdesk-Event-Type";
export const HEADER_EVENT_ID = "X-revdesk-Event-Id";
export const HEADER_DELIVERY_ID = "X-revdesk-Delivery-Id";
export const HEADER_SUBSCRIPTION_ID = "X-revdesk-Subscription-Id";
/** On deliveries of derived disposition events only: the call_completed event they came from. */
export const HEADER_SOURCE_EVENT_ID = "X-revdesk-Source-Event-Id";
/** Standard Webhooks headers, sent when the subscription has "standard_webhooks": true. */
export const HEADER_WEBHOOK_ID = "webhook-id";
export const HEADER_WEBHOOK_TIMESTAMP = "webhook-timestamp";
export const HEADER_WEBHOOK_SIGNATURE = "webhook-signature";
/** The X-revdesk-Signature-256 value of a subscription created without a secret. */
export const NO_SECRET = "no-secret-provided";
/** How far webhook-timestamp may be from now unless told otherwise (the Standard Webhooks default). */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** A refused delivery. `status` is the HTTP status to answer: 400 for a bad request, 401 for a bad signature. */
export class WebhookVerificationError extends Error {
    code;
    status;
    constructor(code, message) {
        super(message);
        this.name = "WebhookVerificationError";
        this.code = code;
        this.status = code === "missing_event_type" || code === "unknown_event_type" || code === "malformed_body" ? 400 : 401;
    }
}
/** Reads one header; repeated values are joined with spaces. */
export function getHeader(headers, name) {
    if (typeof headers.get === "function") {
        return headers.get(name) ?? undefined;
    }
    const record = headers;
    const lower = name.toLowerCase();
    let value = record[lower];
    if (value === undefined) {
        for (const key of Object.keys(record)) {
            if (key.toLowerCase() === lower) {
                value = record[key];
                break;
            }
        }
    }
    if (value === undefined)
        return undefined;
    return typeof value === "string" ? value : value.join(" ");
}
function bytes(body) {
    return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
function hmac(key, ...parts) {
    const mac = createHmac("sha256", key);
    for (const p of parts)
        mac.update(p);
    return mac.digest();
}
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
// Padded standard base64, as Go's base64.StdEncoding and Python's
// b64decode(validate=True) accept it: the SDKs must agree on what decodes.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP = /^[0-9]{1,15}$/;
/**
 * Checks X-revdesk-Signature-256: the lowercase hex HMAC-SHA256 of the raw
 * body keyed with the UTF-8 bytes of secret, compared in constant time.
 * Throws WebhookVerificationError: `missing_signature`, `no_secret` (the
 * header is no-secret-provided) or `invalid_signature`.
 */
export function verifySignature(rawBody, header, secret) {
    const value = (header ?? "").trim();
    if (value === "")
        throw new WebhookVerificationError("missing_signature", `missing ${HEADER_SIGNATURE_256} header`);
    if (value === NO_SECRET) {
        throw new WebhookVerificationError("no_secret", "the subscription has no signing secret, so the delivery cannot be authenticated");
    }
    if (secret === "")
        throw new WebhookVerificationError("invalid_signature", "no secret configured on the receiver");
    if (!HEX_SHA256.test(value))
        throw new WebhookVerificationError("invalid_signature", `${HEADER_SIGNATURE_256} is not a hex HMAC-SHA256`);
    if (!timingSafeEqual(Buffer.from(value, "hex"), hmac(secret, bytes(rawBody)))) {
        throw new WebhookVerificationError("invalid_signature", "invalid signature");
    }
}
/** The Standard Webhooks key: the base64-decoded part of a whsec_ secret, otherwise the secret's UTF-8 bytes. */
export function standardKey(secret) {
    if (secret.startsWith("whsec_")) {
        const rest = secret.slice("whsec_".length);
        if (rest !== "" && BASE64.test(rest))
            return Buffer.from(rest, "base64");
    }
    return Buffer.from(secret, "utf8");
}
/**
 * Checks the Standard Webhooks headers: webhook-timestamp within the
 * tolerance of now, and one "v1," signature of webhook-signature (there are
 * two during a secret rotation) matching HMAC-SHA256 of "id.timestamp.body".
 * Throws WebhookVerificationError: `missing_signature`, `timestamp_too_old`,
 * `timestamp_too_new` or `invalid_signature`.
 */
export function verifyStandardWebhooks(rawBody, headers, secret, options = {}) {
    const id = getHeader(headers, HEADER_WEBHOOK_ID) ?? "";
    const ts = getHeader(headers, HEADER_WEBHOOK_TIMESTAMP) ?? "";
    const sigs = getHeader(headers, HEADER_WEBHOOK_SIGNATURE) ?? "";
    if (id === "" || ts === "" || sigs === "") {
        throw new WebhookVerificationError("missing_signature", "webhook-id, webhook-timestamp and webhook-signature are required");
    }
    if (secret === "")
        throw new WebhookVerificationError("invalid_signature", "no secret configured on the receiver");
    if (!TIMESTAMP.test(ts))
        throw new WebhookVerificationError("invalid_signature", "malformed webhook-timestamp");
    const tolerance = options.toleranceSeconds !== undefined && options.toleranceSeconds > 0 ? options.toleranceSeconds : DEFAULT_TOLERANCE_SECONDS;
    const now = (options.now ?? new Date()).getTime() / 1000;
    const sent = Number(ts);
    if (now - sent > tolerance)
        throw new WebhookVerificationError("timestamp_too_old", "webhook-timestamp is older than the tolerance (a replay?)");
    if (sent - now > tolerance)
        throw new WebhookVerificationError("timestamp_too_new", "webhook-timestamp is further in the future than the tolerance");
    const want = hmac(standardKey(secret), Buffer.from(`${id}.${ts}.`, "utf8"), bytes(rawBody));
    for (const sig of sigs.split(/\s+/)) {
        const comma = sig.indexOf(",");
        // Other schemes (e.g. v1a, asymmetric) are not ours to check.
        if (comma < 0 || sig.slice(0, comma) !== "v1")
            continue;
        const value = sig.slice(comma + 1);
        if (!BASE64.test(value))
            continue;
        const got = Buffer.from(value, "base64");
        if (got.length === want.length && timingSafeEqual(got, want))
            return;
    }
    throw new WebhookVerificationError("invalid_signature", "no webhook-signature matches");
}
