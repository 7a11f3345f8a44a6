// Real deliveries: a running revdesk server delivers to node:http receivers
// built with the SDK, which must verify and parse what arrives.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { createNodeHandler, readRawBody, verifySignature, verifyStandardWebhooks } from "../dist/esm/index.js";
import { startServer } from "./revdesk.mjs";

const NON_ASCII = "sécret-ключ-🔑";
const STD_SECRET = "whsec_c2RrLXZlY3RvcnMtc2VjcmV0LTMyLWJ5dGVzLW9rIQ==";
const example = (name) => JSON.parse(readFileSync(new URL(`../../../internal/catalog/examples/${name}.json`, import.meta.url), "utf8"));

let server, receiver, url;
const arrivals = []; // {path, status, event?, error?, headers, body}
const waiters = [];

function arrived(entry) {
  arrivals.push(entry);
  for (const w of waiters.splice(0)) w();
}

async function waitFor(pred, what) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = arrivals.find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no ${what} within 20 s; got ${JSON.stringify(arrivals.map((a) => [a.path, a.status]))}`);
    await Promise.race([new Promise((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 200))]);
  }
}

// Receivers by path, each with its own configuration.
const routes = {
  "/hooks/documented": { secrets: [NON_ASCII] },
  "/hooks/standard": { secrets: [STD_SECRET], require: "standard_webhooks" },
  "/hooks/strict": { secrets: [NON_ASCII], require: "signature" },
  "/hooks/wrong-secret": { secrets: ["not-the-secret"] },
};

before(async () => {
  server = await startServer();
  const handlers = {};
  for (const [path, options] of Object.entries(routes)) {
    handlers[path] = createNodeHandler(options, (event, req) => {
      arrived({ path, status: 204, event, headers: req.headers, body: req.raw });
    });
  }
  receiver = createServer(async (req, res) => {
    const handler = handlers[req.url];
    if (!handler) return res.writeHead(404).end();
    // Keep a copy of the raw body for the test's own checks, then replay it.
    const raw = await readRawBody(req);
    const replay = Object.assign(Readable.from([raw]), { method: req.method, headers: req.headers, url: req.url, raw });
    const end = res.end.bind(res);
    res.end = (...args) => {
      if (res.statusCode >= 400) arrived({ path: req.url, status: res.statusCode, headers: req.headers, body: raw, error: String(args[0] ?? "") });
      return end(...args);
    };
    handler(replay, res);
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  url = (path) => `http://127.0.0.1:${receiver.address().port}${path}`;
});

after(async () => {
  receiver?.close();
  await server?.stop();
});

async function subscribe(path, eventType, extra) {
  return server.api("POST", "/api/v1/webhook_subscriptions", { webhook_url: url(path), event_type: eventType, ...extra });
}

test("a signed event with a non-ASCII secret verifies and parses", async () => {
  await subscribe("/hooks/documented", "number_purchased", { signing_secret: NON_ASCII });
  const { id } = await server.api("POST", "/api/v1/events", { event_type: "number_purchased", data: example("number_purchased") });
  const got = await waitFor((a) => a.path === "/hooks/documented" && a.event?.eventId === id, "number_purchased delivery");
  assert.equal(got.event.type, "number_purchased");
  assert.equal(got.event.authenticated, true);
  assert.equal(got.event.triggerEvent, "number.purchased");
  assert.deepEqual(got.event.data, example("number_purchased"));
  assert.match(got.event.deliveryId, /^dlv_/);
});

test("Standard Webhooks signs call events, which the SDK then requires", async () => {
  await subscribe("/hooks/standard", "call_voicemail", { signing_secret: STD_SECRET, standard_webhooks: true });
  const call = { ...example("call_completed"), id: "call_sdk_node", status: "VOICEMAIL", failure_code: "voicemail_reached", failure_category: "voicemail" };
  await server.api("POST", "/api/v1/events", { event_type: "call_completed", data: call });
  const got = await waitFor((a) => a.path === "/hooks/standard" && a.event?.data.id === "call_sdk_node", "derived call_voicemail delivery");
  assert.equal(got.event.type, "call_voicemail");
  assert.equal(got.event.authenticated, true);
  assert.equal(got.headers["webhook-id"], got.event.deliveryId);
  assert.equal(got.headers["x-revdesk-signature-256"], undefined, "call events carry no documented signature");
});

test("an unsigned SMS delivery is refused when a signature is required", async () => {
  await subscribe("/hooks/strict", "sms_delivered", { signing_secret: NON_ASCII });
  await server.api("POST", "/api/v1/events", { event_type: "sms_delivered", data: example("sms_delivered") });
  const got = await waitFor((a) => a.path === "/hooks/strict", "refused sms_delivered delivery");
  assert.equal(got.status, 401);
  assert.match(got.error, /missing_signature/);
});

test("a receiver holding another secret refuses the delivery", async () => {
  await subscribe("/hooks/wrong-secret", "contact_created", { signing_secret: NON_ASCII });
  await server.api("POST", "/api/v1/events", { event_type: "contact_created", data: example("contact_created") });
  const got = await waitFor((a) => a.path === "/hooks/wrong-secret", "refused contact_created delivery");
  assert.equal(got.status, 401);
  assert.match(got.error, /invalid_signature/);
});

test("during a rotation overlap both secrets verify what the server sends", async () => {
  const sub = await subscribe("/hooks/standard", "new_appointment", { signing_secret: STD_SECRET, standard_webhooks: true });
  const next = "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbi0zMi1ieXRlcyE=";
  const rotated = await server.api("POST", `/api/v1/webhook_subscriptions/${sub.id}/rotate_secret`, { signing_secret: next, overlap_seconds: 3600 });
  assert.ok(rotated.new_secret_active_at);
  const data = { ...example("new_appointment"), id: "appt_rotation" };
  await server.api("POST", "/api/v1/events", { event_type: "new_appointment", data });
  const got = await waitFor((a) => a.path === "/hooks/standard" && a.event?.data.id === "appt_rotation", "new_appointment delivery");
  assert.equal(got.headers["webhook-signature"].split(" ").length, 2, "one signature per secret");
  // The documented header keeps the previous secret until the takeover.
  verifySignature(got.body, got.headers["x-revdesk-signature-256"], STD_SECRET);
  assert.throws(() => verifySignature(got.body, got.headers["x-revdesk-signature-256"], next), { code: "invalid_signature" });
  verifyStandardWebhooks(got.body, got.headers, next);
  verifyStandardWebhooks(got.body, got.headers, STD_SECRET);
});
