// Parsing every catalog example as the server delivers it.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { Deduplicator, EVENT_TYPES, parseEvent } from "../dist/esm/index.js";

const examples = new URL("../../../internal/catalog/examples/", import.meta.url);
const vectors = JSON.parse(readFileSync(new URL("../../vectors/signatures.json", import.meta.url), "utf8"));

test("the SDK knows the catalog's 21 event types", () => {
  const names = readdirSync(examples).map((f) => f.replace(/\.json$/, "")).sort();
  assert.deepEqual(Object.keys(EVENT_TYPES).sort(), names);
  assert.equal(names.length, 21);
});

test("every catalog example parses as delivered", async (t) => {
  for (const name of Object.keys(EVENT_TYPES)) {
    await t.test(name, () => {
      const example = readFileSync(new URL(`${name}.json`, examples), "utf8").trim();
      const info = EVENT_TYPES[name];
      // The server's envelope, byte for byte (catalog.Body).
      const body = info.shape === "flat" ? example : `{"triggerEvent":"${info.triggerEvent}","createdAt":"2026-06-30T19:30:00.000Z","payload":${example}}`;
      const ev = parseEvent(name, body);
      assert.equal(ev.type, name);
      assert.deepEqual(ev.data, JSON.parse(example));
      assert.equal(ev.triggerEvent, info.triggerEvent);
      assert.equal(ev.createdAt, info.shape === "flat" ? null : "2026-06-30T19:30:00.000Z");
      assert.equal(info.signed, info.shape === "enveloped");
    });
  }
});

test("the vectors' delivered bodies parse", () => {
  let n = 0;
  for (const c of vectors.signatures) {
    const m = /^(\w+): documented header, whsec_ secret$/.exec(c.name);
    if (!m) continue;
    const ev = parseEvent(m[1], Buffer.from(c.body_base64, "base64"));
    assert.equal(ev.type, m[1]);
    n++;
  }
  assert.equal(n, 21);
});

test("malformed bodies are refused", async (t) => {
  const cases = [
    ["unknown type", "call_answered", "{}", "unknown_event_type"],
    ["not JSON", "call_completed", '{"id":', "malformed_body"],
    ["not an object", "sms_sent", "[1]", "malformed_body"],
    ["invalid UTF-8", "sms_sent", Buffer.from([0x7b, 0xff, 0x7d]), "malformed_body"],
    ["relabelled envelope", "number_released", '{"triggerEvent":"number.purchased","createdAt":"x","payload":{}}', "malformed_body"],
    ["payload not an object", "number_purchased", '{"triggerEvent":"number.purchased","createdAt":"x","payload":null}', "malformed_body"],
  ];
  for (const [name, type, body, code] of cases) {
    await t.test(name, () => assert.throws(() => parseEvent(type, body), { code, status: 400 }));
  }
});

test("Deduplicator: bounded, expiring, forgettable", () => {
  let now = 1_782_847_800_000;
  const d = new Deduplicator({ maxEntries: 3, ttlSeconds: 3600, now: () => new Date(now) });
  assert.equal(d.first("dlv_1"), true);
  assert.equal(d.first("dlv_1"), false);
  d.forget("dlv_1");
  assert.equal(d.first("dlv_1"), true);
  for (let i = 2; i <= 5; i++) d.first(`dlv_${i}`);
  assert.equal(d.size, 3);
  assert.equal(d.first("dlv_5"), false);
  assert.equal(d.first("dlv_1"), true, "the oldest was dropped");
  now += 3600_000;
  assert.equal(d.size, 0, "all expired");
  assert.equal(d.first(""), true);
  assert.equal(d.first(null), true);
});
