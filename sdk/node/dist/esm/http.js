import { Verifier } from "./receiver.js";
import { WebhookVerificationError } from "./verify.js";
/** The body size read unless maxBodyBytes says otherwise (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
class BodyTooLarge extends Error {
}
/** Reads a request's raw body, refusing more than maxBytes. */
export function readRawBody(req, maxBytes = DEFAULT_MAX_BODY_BYTES) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on("data", (chunk) => {
            size += chunk.length;
            if (size > maxBytes) {
                req.removeAllListeners("data");
                req.resume(); // drain, so the 413 can be written
                reject(new BodyTooLarge(`body larger than ${maxBytes} bytes`));
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => resolve(Buffer.concat(chunks, size)));
        req.on("error", reject);
    });
}
function refuse(res, status, code, message) {
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
}
function fail(res, err) {
    if (err instanceof WebhookVerificationError) {
        refuse(res, err.status, err.code, err.message);
        return true;
    }
    if (err instanceof BodyTooLarge) {
        refuse(res, 413, "body_too_large", err.message);
        return true;
    }
    return false;
}
/**
 * A node:http request listener for a webhook endpoint: POST only (405),
 * reads the raw body (413 past maxBodyBytes), verifies (401) and parses
 * (400) it, and calls onEvent. If onEvent does not answer, the delivery is
 * acknowledged with 204; if it throws, with 500, and RevDesk retries. Answer
 * quickly: do slow work after acknowledging.
 */
export function createNodeHandler(options, onEvent) {
    const verifier = new Verifier(options);
    return (req, res) => {
        if (req.method !== "POST") {
            res.setHeader("Allow", "POST");
            refuse(res, 405, "method_not_allowed", "webhooks are POSTed");
            return;
        }
        void (async () => {
            let event;
            try {
                event = verifier.receive(await readRawBody(req, options.maxBodyBytes), req.headers);
            }
            catch (err) {
                if (!fail(res, err))
                    refuse(res, 400, "bad_request", String(err));
                return;
            }
            try {
                await onEvent(event, req, res);
                if (!res.headersSent) {
                    res.writeHead(204);
                    res.end();
                }
            }
            catch (err) {
                if (!res.headersSent)
                    refuse(res, 500, "handler_failed", err instanceof Error ? err.message : String(err));
                else
                    res.destroy();
            }
        })();
    };
}
/**
 * Express middleware (Express 4 and 5; no dependency on Express): verifies
 * and parses the delivery, sets `req.revdeskEvent`, and calls next(); a
 * refused delivery is answered 400/401/413 with a JSON error. Mount it on the
 * webhook route before any JSON body parser, or after
 * `express.raw({ type: "application/json" })`: the signature covers the raw
 * bytes, which a parsed and re-serialised body does not reproduce.
 */
export function expressMiddleware(options) {
    const verifier = new Verifier(options);
    return (req, res, next) => {
        void (async () => {
            let raw;
            if (Buffer.isBuffer(req.body)) {
                raw = req.body;
            }
            else if (req.body !== undefined && req.readableEnded) {
                next(new Error("revdesk: the body was already parsed; mount expressMiddleware before express.json() or use express.raw({ type: 'application/json' }) on this route"));
                return;
            }
            else {
                try {
                    raw = await readRawBody(req, options.maxBodyBytes);
                }
                catch (err) {
                    if (!fail(res, err))
                        next(err);
                    return;
                }
            }
            try {
                req.revdeskEvent = verifier.receive(raw, req.headers);
            }
            catch (err) {
                if (!fail(res, err))
                    next(err);
                return;
            }
            next();
        })();
    };
}
/**
 * The event expressMiddleware verified, typed (Express's own Request type
 * does not declare `revdeskEvent`). Throws if the middleware did not run.
 */
export function getRevdeskEvent(req) {
    const event = req.revdeskEvent;
    if (event === undefined)
        throw new Error("revdesk: no verified event on this request: mount expressMiddleware on the route");
    return event;
}
