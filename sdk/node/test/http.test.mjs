// The node:http handler and the Express middleware behind a real server.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import { createNodeHandler, expressMiddleware, getRevdeskEvent, readRawBody } from "../dist/esm/index.js";

const SECRET = "sécret-ключ-🔑";
const BODY = '{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}';
const sign = (body, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");

async function serve(listener) {
  const srv = createServer(listener);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  return { url: `http://127.0.0.1:${srv.address().port}/hooks`, close: () => srv.close() };
}

function post(url, { body = BODY, type = "number_purchased", signature = sign(BODY), method = "POST" } = {}) {
  const headers = { "Content-Type": "application/json", "X-revdesk-Delivery-Id": "dlv_1" };
  if (type) headers["X-revdesk-Event-Type"] = type;
  if (signature) headers["X-revdesk-Signature-256"] = signature;
  return fetch(url, { method, headers, body: method === "POST" ? body : undefined });
}

test("node:http handler", async (t) => {
  const seen = [];
  const srv = await serve(
    createNodeHandler({ secrets: SECRET, maxBodyBytes: 4096 }, (event) => {
      if (event.data.phone_number === "+0") throw new Error("handler broke");
      seen.push(event);
    }),
  );
  t.after(srv.close);
  const cases = [
    ["valid: acknowledged with 204", {}, 204],
    ["wrong signature", { signature: sign(BODY, "other") }, 401],
    ["no signature", { signature: "" }, 401],
    ["no-secret-provided", { signature: "no-secret-provided" }, 401],
    ["missing event type", { type: "" }, 400],
    ["GET", { method: "GET" }, 405],
    ["too large", { body: BODY + " ".repeat(5000), signature: sign(BODY + " ".repeat(5000)) }, 413],
    ["handler throws: 500, so RevDesk retries", { body: BODY.replace("+15551234567", "+0"), signature: sign(BODY.replace("+15551234567", "+0")) }, 500],
  ];
  for (const [name, opts, status] of cases) {
    await t.test(name, async () => {
      const res = await post(srv.url, opts);
      const text = await res.text();
      assert.equal(res.status, status, text);
      if (status === 401) assert.match(JSON.parse(text).error.code, /signature|no_secret/);
    });
  }
  assert.equal(seen.length, 1);
  assert.equal(seen[0].deliveryId, "dlv_1");
  assert.equal(seen[0].sourceEventId, null); // only derived disposition events carry X-revdesk-Source-Event-Id
  assert.equal(seen[0].authenticated, true);
});

test("getRevdeskEvent without the middleware says so", () => {
  assert.throws(() => getRevdeskEvent({}), /mount expressMiddleware/);
});

test("Express middleware", async (t) => {
  // Express's app.post(path, middleware, handler) reduced to its calling
  // convention; `preparse` stands for a body parser mounted before it.
  const app = (middleware, preparse) => async (req, res) => {
    if (preparse === "raw") req.body = await readRawBody(req);
    if (preparse === "json") req.body = JSON.parse(await readRawBody(req));
    middleware(req, res, (err) => {
      if (err) return res.writeHead(500).end(String(err.message));
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(getRevdeskEvent(req)));
    });
  };
  const mw = expressMiddleware({ secrets: ["whsec_new", SECRET] });
  for (const [name, preparse, opts, status, check] of [
    ["reads the stream", undefined, {}, 200, (ev) => assert.equal(ev.data.id, 4821)],
    ["after express.raw()", "raw", {}, 200, (ev) => assert.equal(ev.type, "number_purchased")],
    ["after express.json(): refused with a hint", "json", {}, 500, (text) => assert.match(text, /before express\.json\(\)/)],
    ["bad signature", undefined, { signature: sign(BODY, "whsec_old") }, 401, (text) => assert.match(text, /invalid_signature/)],
  ]) {
    await t.test(name, async () => {
      const srv = await serve(app(mw, preparse));
      t.after(srv.close);
      const res = await post(srv.url, opts);
      const text = await res.text();
      assert.equal(res.status, status, text);
      check(status === 200 ? JSON.parse(text) : text);
    });
  }
});

test("a Fetch-style route handler (Next.js App Router)", async () => {
  const { Verifier } = await import("../dist/esm/index.js");
  const verifier = new Verifier({ secrets: SECRET });
  // What examples/nextjs-route.ts does with the Request a route handler gets.
  const POST = async (request) => {
    try {
      const event = verifier.receive(new Uint8Array(await request.arrayBuffer()), request.headers);
      return Response.json({ phone: event.data.phone_number });
    } catch (err) {
      return Response.json({ error: { code: err.code } }, { status: err.status });
    }
  };
  const request = (signature) =>
    new Request("http://localhost/api/hooks/revdesk", {
      method: "POST",
      headers: { "X-revdesk-Event-Type": "number_purchased", "X-revdesk-Signature-256": signature },
      body: BODY,
    });
  const ok = await POST(request(sign(BODY)));
  assert.deepEqual([ok.status, await ok.json()], [200, { phone: "+15551234567" }]);
  const forged = await POST(request(sign(BODY, "guess")));
  assert.deepEqual([forged.status, await forged.json()], [401, { error: { code: "invalid_signature" } }]);
});
