"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Deduplicator = exports.Verifier = void 0;
exports.isEventType = isEventType;
exports.parseEvent = parseEvent;
const events_generated_js_1 = require("./events.generated.js");
const verify_js_1 = require("./verify.js");
function isEventType(name) {
    return Object.prototype.hasOwnProperty.call(events_generated_js_1.EVENT_TYPES, name);
}
function isObject(v) {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
function text(body) {
    return typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body);
}
/**
 * Parses a delivery body of eventType (the X-revdesk-Event-Type header)
 * without verifying it. For enveloped types the envelope's triggerEvent must
 * match, so a signed body cannot be passed off as another event type.
 */
function parseEvent(eventType, body) {
    if (!isEventType(eventType))
        throw new verify_js_1.WebhookVerificationError("unknown_event_type", `unknown event type ${JSON.stringify(eventType)}`);
    let doc;
    try {
        doc = JSON.parse(text(body));
    }
    catch (e) {
        throw new verify_js_1.WebhookVerificationError("malformed_body", `${eventType} body is not JSON: ${e.message}`);
    }
    const info = events_generated_js_1.EVENT_TYPES[eventType];
    if (!isObject(doc))
        throw new verify_js_1.WebhookVerificationError("malformed_body", `${eventType} body must be a JSON object`);
    if (info.shape === "flat") {
        return { type: eventType, data: doc, triggerEvent: null, createdAt: null };
    }
    if (doc.triggerEvent !== info.triggerEvent) {
        throw new verify_js_1.WebhookVerificationError("malformed_body", `triggerEvent ${JSON.stringify(doc.triggerEvent)} does not match event type ${eventType}`);
    }
    if (!isObject(doc.payload))
        throw new verify_js_1.WebhookVerificationError("malformed_body", `${eventType} payload must be a JSON object`);
    const createdAt = typeof doc.createdAt === "string" ? doc.createdAt : null;
    return { type: eventType, data: doc.payload, triggerEvent: info.triggerEvent, createdAt };
}
/** Verifies and parses whole deliveries against a receiver's configuration. */
class Verifier {
    #secrets;
    #tolerance;
    #allowNoSecret;
    #require;
    #now;
    constructor(options) {
        const secrets = typeof options.secrets === "string" ? [options.secrets] : options.secrets;
        // An unset environment variable must not silently refuse (or accept) everything.
        if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== "string" || s === "")) {
            throw new TypeError("Verifier: secrets must be a non-empty string or an array of them");
        }
        if (options.require !== undefined && !["none", "signature", "standard_webhooks"].includes(options.require)) {
            throw new TypeError(`Verifier: require must be "none", "signature" or "standard_webhooks"`);
        }
        this.#secrets = [...secrets];
        this.#tolerance = options.toleranceSeconds;
        this.#allowNoSecret = options.allowNoSecret ?? false;
        this.#require = options.require ?? "none";
        this.#now = options.now ?? (() => new Date());
    }
    /**
     * Checks a delivery's signatures and returns whether one was verified.
     * Throws WebhookVerificationError (its `code` and `status` say why).
     */
    verifyRequest(rawBody, headers) {
        const eventType = (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_EVENT_TYPE) ?? "";
        if (eventType === "")
            throw new verify_js_1.WebhookVerificationError("missing_event_type", `missing ${verify_js_1.HEADER_EVENT_TYPE} header`);
        if (!isEventType(eventType))
            throw new verify_js_1.WebhookVerificationError("unknown_event_type", `unknown event type ${JSON.stringify(eventType)}`);
        let authenticated = false;
        if (events_generated_js_1.EVENT_TYPES[eventType].signed) {
            const header = (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_SIGNATURE_256);
            if (!(header?.trim() === verify_js_1.NO_SECRET && this.#allowNoSecret && this.#require === "none")) {
                this.#anySecret((s) => (0, verify_js_1.verifySignature)(rawBody, header, s));
                authenticated = true;
            }
        }
        const present = [verify_js_1.HEADER_WEBHOOK_ID, verify_js_1.HEADER_WEBHOOK_TIMESTAMP, verify_js_1.HEADER_WEBHOOK_SIGNATURE].some((h) => ((0, verify_js_1.getHeader)(headers, h) ?? "") !== "");
        if (present || this.#require === "standard_webhooks") {
            const options = { toleranceSeconds: this.#tolerance, now: this.#now() };
            this.#anySecret((s) => (0, verify_js_1.verifyStandardWebhooks)(rawBody, headers, s, options));
            authenticated = true;
        }
        if (this.#require === "signature" && !authenticated) {
            throw new verify_js_1.WebhookVerificationError("missing_signature", `${eventType} is unsigned unless the subscription opts in to Standard Webhooks`);
        }
        return { authenticated };
    }
    /** Verifies a delivery and parses it: what a route handler needs. */
    receive(rawBody, headers) {
        const { authenticated } = this.verifyRequest(rawBody, headers);
        const parsed = parseEvent((0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_EVENT_TYPE) ?? "", rawBody);
        return {
            ...parsed,
            eventId: (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_EVENT_ID) ?? null,
            deliveryId: (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_DELIVERY_ID) ?? null,
            subscriptionId: (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_SUBSCRIPTION_ID) ?? null,
            sourceEventId: (0, verify_js_1.getHeader)(headers, verify_js_1.HEADER_SOURCE_EVENT_ID) ?? null,
            authenticated,
        };
    }
    // Passes if any secret verifies; errors other than invalid_signature
    // (missing headers, timestamps) do not depend on the secret.
    #anySecret(check) {
        if (this.#secrets.length === 0) {
            check("");
            return;
        }
        let last;
        for (const s of this.#secrets) {
            try {
                check(s);
                return;
            }
            catch (e) {
                if (!(e instanceof verify_js_1.WebhookVerificationError) || e.code !== "invalid_signature")
                    throw e;
                last = e;
            }
        }
        throw last;
    }
}
exports.Verifier = Verifier;
/**
 * Remembers delivery ids (X-revdesk-Delivery-Id, the same on every attempt)
 * in bounded memory, in one process: delivery is at-least-once, so a
 * receiver may see an attempt again after answering it.
 */
class Deduplicator {
    #max;
    #ttlMs;
    #now;
    // A Map iterates in insertion order, and all ids share one TTL: the first
    // entry is always the next to expire.
    #seen = new Map();
    constructor(options = {}) {
        this.#max = Math.max(1, options.maxEntries ?? 100_000);
        this.#ttlMs = (options.ttlSeconds ?? 48 * 3600) * 1000;
        this.#now = options.now ?? (() => new Date());
    }
    /** Whether id is new; remembers it. Call forget(id) if processing then fails, so the retry is processed. */
    first(id) {
        if (!id)
            return true;
        const now = this.#now().getTime();
        this.#expire(now);
        if (this.#seen.has(id))
            return false;
        this.#seen.set(id, now);
        for (const oldest of this.#seen.keys()) {
            if (this.#seen.size <= this.#max)
                break;
            this.#seen.delete(oldest);
        }
        return true;
    }
    forget(id) {
        this.#seen.delete(id);
    }
    get size() {
        this.#expire(this.#now().getTime());
        return this.#seen.size;
    }
    #expire(now) {
        for (const [id, at] of this.#seen) {
            if (now - at < this.#ttlMs)
                break;
            this.#seen.delete(id);
        }
    }
}
exports.Deduplicator = Deduplicator;
