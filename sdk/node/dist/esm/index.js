/**
 * Receiver SDK for RevDesk webhooks: verifies deliveries (the documented
 * X-revdesk-Signature-256 header and the Standard Webhooks headers), parses
 * both body shapes into typed events, and plugs into node:http, Express and
 * Fetch-style route handlers (Next.js). No runtime dependencies.
 *
 * Call and SMS deliveries are unsigned by the documentation. To authenticate
 * them, create the subscription with "standard_webhooks": true (which signs
 * every family) and construct the Verifier with `require: "signature"` or
 * `require: "standard_webhooks"`.
 */
export * from "./events.generated.js";
export * from "./verify.js";
export * from "./receiver.js";
export * from "./http.js";
