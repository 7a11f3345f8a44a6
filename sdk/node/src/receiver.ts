import { EVENT_TYPES, type EventDataMap, type EventType } from "./events.generated.js";
import {
  HEADER_DELIVERY_ID,
  HEADER_EVENT_ID,
  HEADER_EVENT_TYPE,
  HEADER_SIGNATURE_256,
  HEADER_SOURCE_EVENT_ID,
  HEADER_SUBSCRIPTION_ID,
  HEADER_WEBHOOK_ID,
  HEADER_WEBHOOK_SIGNATURE,
  HEADER_WEBHOOK_TIMESTAMP,
  NO_SECRET,
  WebhookVerificationError,
  getHeader,
  verifySignature,
  verifyStandardWebhooks,
  type HeaderSource,
  type RawBody,
} from "./verify.js";

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
export type AnyWebhookEvent = { [K in EventType]: WebhookEvent<K> }[EventType];

/** What parseEvent returns: the body's part of an event, still discriminated by `type`. */
export type ParsedEvent = { [K in EventType]: Pick<WebhookEvent<K>, "type" | "data" | "triggerEvent" | "createdAt"> }[EventType];

export function isEventType(name: string): name is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_TYPES, name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function text(body: RawBody): string {
  return typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body);
}

/**
 * Parses a delivery body of eventType (the X-revdesk-Event-Type header)
 * without verifying it. For enveloped types the envelope's triggerEvent must
 * match, so a signed body cannot be passed off as another event type.
 */
export function parseEvent(eventType: string, body: RawBody): ParsedEvent {
  if (!isEventType(eventType)) throw new WebhookVerificationError("unknown_event_type", `unknown event type ${JSON.stringify(eventType)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text(body));
  } catch (e) {
    throw new WebhookVerificationError("malformed_body", `${eventType} body is not JSON: ${(e as Error).message}`);
  }
  const info = EVENT_TYPES[eventType];
  if (!isObject(doc)) throw new WebhookVerificationError("malformed_body", `${eventType} body must be a JSON object`);
  if (info.shape === "flat") {
    return { type: eventType, data: doc, triggerEvent: null, createdAt: null } as ParsedEvent;
  }
  if (doc.triggerEvent !== info.triggerEvent) {
    throw new WebhookVerificationError("malformed_body", `triggerEvent ${JSON.stringify(doc.triggerEvent)} does not match event type ${eventType}`);
  }
  if (!isObject(doc.payload)) throw new WebhookVerificationError("malformed_body", `${eventType} payload must be a JSON object`);
  const createdAt = typeof doc.createdAt === "string" ? doc.createdAt : null;
  return { type: eventType, data: doc.payload, triggerEvent: info.triggerEvent, createdAt } as ParsedEvent;
}

/** Verifies and parses whole deliveries against a receiver's configuration. */
export class Verifier {
  readonly #secrets: readonly string[];
  readonly #tolerance: number | undefined;
  readonly #allowNoSecret: boolean;
  readonly #require: Requirement;
  readonly #now: () => Date;

  constructor(options: VerifierOptions) {
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
  verifyRequest(rawBody: RawBody, headers: HeaderSource): { authenticated: boolean } {
    const eventType = getHeader(headers, HEADER_EVENT_TYPE) ?? "";
    if (eventType === "") throw new WebhookVerificationError("missing_event_type", `missing ${HEADER_EVENT_TYPE} header`);
    if (!isEventType(eventType)) throw new WebhookVerificationError("unknown_event_type", `unknown event type ${JSON.stringify(eventType)}`);
    let authenticated = false;
    if (EVENT_TYPES[eventType].signed) {
      const header = getHeader(headers, HEADER_SIGNATURE_256);
      if (!(header?.trim() === NO_SECRET && this.#allowNoSecret && this.#require === "none")) {
        this.#anySecret((s) => verifySignature(rawBody, header, s));
        authenticated = true;
      }
    }
    const present = [HEADER_WEBHOOK_ID, HEADER_WEBHOOK_TIMESTAMP, HEADER_WEBHOOK_SIGNATURE].some((h) => (getHeader(headers, h) ?? "") !== "");
    if (present || this.#require === "standard_webhooks") {
      const options = { toleranceSeconds: this.#tolerance, now: this.#now() };
      this.#anySecret((s) => verifyStandardWebhooks(rawBody, headers, s, options));
      authenticated = true;
    }
    if (this.#require === "signature" && !authenticated) {
      throw new WebhookVerificationError("missing_signature", `${eventType} is unsigned unless the subscription opts in to Standard Webhooks`);
    }
    return { authenticated };
  }

  /** Verifies a delivery and parses it: what a route handler needs. */
  receive(rawBody: RawBody, headers: HeaderSource): AnyWebhookEvent {
    const { authenticated } = this.verifyRequest(rawBody, headers);
    const parsed = parseEvent(getHeader(headers, HEADER_EVENT_TYPE) ?? "", rawBody);
    return {
      ...parsed,
      eventId: getHeader(headers, HEADER_EVENT_ID) ?? null,
      deliveryId: getHeader(headers, HEADER_DELIVERY_ID) ?? null,
      subscriptionId: getHeader(headers, HEADER_SUBSCRIPTION_ID) ?? null,
      sourceEventId: getHeader(headers, HEADER_SOURCE_EVENT_ID) ?? null,
      authenticated,
    } as AnyWebhookEvent;
  }

  // Passes if any secret verifies; errors other than invalid_signature
  // (missing headers, timestamps) do not depend on the secret.
  #anySecret(check: (secret: string) => void): void {
    if (this.#secrets.length === 0) {
      check("");
      return;
    }
    let last: unknown;
    for (const s of this.#secrets) {
      try {
        check(s);
        return;
      } catch (e) {
        if (!(e instanceof WebhookVerificationError) || e.code !== "invalid_signature") throw e;
        last = e;
      }
    }
    throw last;
  }
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
export class Deduplicator {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => Date;
  // A Map iterates in insertion order, and all ids share one TTL: the first
  // entry is always the next to expire.
  readonly #seen = new Map<string, number>();

  constructor(options: DeduplicatorOptions = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 100_000);
    this.#ttlMs = (options.ttlSeconds ?? 48 * 3600) * 1000;
    this.#now = options.now ?? (() => new Date());
  }

  /** Whether id is new; remembers it. Call forget(id) if processing then fails, so the retry is processed. */
  first(id: string | null | undefined): boolean {
    if (!id) return true;
    const now = this.#now().getTime();
    this.#expire(now);
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, now);
    for (const oldest of this.#seen.keys()) {
      if (this.#seen.size <= this.#max) break;
      this.#seen.delete(oldest);
    }
    return true;
  }

  forget(id: string): void {
    this.#seen.delete(id);
  }

  get size(): number {
    this.#expire(this.#now().getTime());
    return this.#seen.size;
  }

  #expire(now: number): void {
    for (const [id, at] of this.#seen) {
      if (now - at < this.#ttlMs) break;
      this.#seen.delete(id);
    }
  }
}
