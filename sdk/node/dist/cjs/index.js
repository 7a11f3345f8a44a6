"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
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
__exportStar(require("./events.generated.js"), exports);
__exportStar(require("./verify.js"), exports);
__exportStar(require("./receiver.js"), exports);
__exportStar(require("./http.js"), exports);
