import type { IncomingMessage, ServerResponse } from "node:http";
import { type AnyWebhookEvent, type VerifierOptions } from "./receiver.js";
/** The body size read unless maxBodyBytes says otherwise (1 MiB). */
export declare const DEFAULT_MAX_BODY_BYTES: number;
export interface HandlerOptions extends VerifierOptions {
    /** Larger bodies are answered 413 (default 1 MiB). */
    maxBodyBytes?: number;
}
/** Reads a request's raw body, refusing more than maxBytes. */
export declare function readRawBody(req: IncomingMessage, maxBytes?: number): Promise<Buffer>;
/**
 * A node:http request listener for a webhook endpoint: POST only (405),
 * reads the raw body (413 past maxBodyBytes), verifies (401) and parses
 * (400) it, and calls onEvent. If onEvent does not answer, the delivery is
 * acknowledged with 204; if it throws, with 500, and RevDesk retries. Answer
 * quickly: do slow work after acknowledging.
 */
export declare function createNodeHandler(options: HandlerOptions, onEvent: (event: AnyWebhookEvent, req: IncomingMessage, res: ServerResponse) => void | Promise<void>): (req: IncomingMessage, res: ServerResponse) => void;
/** What the Express middleware needs of a request (Express's extends node's). */
export interface ExpressLikeRequest extends IncomingMessage {
    /** Set by express.raw() (a Buffer) or by a JSON parser (an object: too late to verify). */
    body?: unknown;
    /** Set by the middleware on success. */
    revdeskEvent?: AnyWebhookEvent;
}
/**
 * Express middleware (Express 4 and 5; no dependency on Express): verifies
 * and parses the delivery, sets `req.revdeskEvent`, and calls next(); a
 * refused delivery is answered 400/401/413 with a JSON error. Mount it on the
 * webhook route before any JSON body parser, or after
 * `express.raw({ type: "application/json" })`: the signature covers the raw
 * bytes, which a parsed and re-serialised body does not reproduce.
 */
export declare function expressMiddleware(options: HandlerOptions): (req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void) => void;
/**
 * The event expressMiddleware verified, typed (Express's own Request type
 * does not declare `revdeskEvent`). Throws if the middleware did not run.
 */
export declare function getRevdeskEvent(req: object): AnyWebhookEvent;
