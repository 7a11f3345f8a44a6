// The shared vectors generated from the server's signing code
// (sdk/vectors/signatures.json): every valid one accepted, every invalid
// one refused for the stated reason.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Verifier, WebhookVerificationError, verifySignature, verifyStandardWebhooks } from "../dist/esm/index.js";

const vectors = JSON.parse(readFileSync(new URL("../../vectors/signatures.json", import.meta.url), "utf8"));

function verdict(fn) {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e.code;
    throw e;
  }
}

test("the vectors file has cases", () => {
  assert.ok(vectors.signatures.length > 100, `${vectors.signatures.length} signature cases`);
  assert.ok(vectors.requests.length > 20, `${vectors.requests.length} request cases`);
});

test("signature vectors", async (t) => {
  for (const c of vectors.signatures) {
    await t.test(c.name, () => {
      const body = Buffer.from(c.body_base64, "base64");
      const got = verdict(() => {
        if (c.scheme === "documented") {
          const name = Object.keys(c.headers).find((k) => k.toLowerCase() === "x-revdesk-signature-256");
          verifySignature(body, name === undefined ? undefined : c.headers[name], c.secret);
        } else {
          verifyStandardWebhooks(body, c.headers, c.secret, { toleranceSeconds: c.tolerance_seconds, now: new Date(c.now * 1000) });
        }
      });
      assert.equal(got, c.verdict);
    });
  }
});

test("request vectors", async (t) => {
  for (const c of vectors.requests) {
    await t.test(c.name, () => {
      const v = new Verifier({
        secrets: c.secrets,
        allowNoSecret: c.allow_no_secret,
        require: c.require,
        toleranceSeconds: c.tolerance_seconds,
        now: () => new Date(c.now * 1000),
      });
      const body = Buffer.from(c.body_base64, "base64");
      let authenticated = false;
      const got = verdict(() => ({ authenticated } = v.verifyRequest(body, c.headers)));
      assert.deepEqual({ verdict: got, authenticated }, { verdict: c.verdict, authenticated: c.authenticated });
    });
  }
});

test("the body may be a string (its UTF-8 bytes) or any Uint8Array view", () => {
  const c = vectors.signatures.find((v) => v.name === "new_appointment: documented header, non-ASCII secret");
  const body = Buffer.from(c.body_base64, "base64");
  const header = c.headers["X-revdesk-Signature-256"];
  verifySignature(body.toString("utf8"), header, c.secret);
  const padded = new Uint8Array(body.length + 8);
  padded.set(body, 4);
  verifySignature(padded.subarray(4, 4 + body.length), header, c.secret);
  assert.throws(() => verifySignature(padded, header, c.secret), { code: "invalid_signature" });
});

test("Fetch Headers are read too", () => {
  const c = vectors.requests.find((v) => v.name === "call type, Standard Webhooks");
  const v = new Verifier({ secrets: c.secrets, require: "signature", now: () => new Date(c.now * 1000) });
  assert.deepEqual(v.verifyRequest(Buffer.from(c.body_base64, "base64"), new Headers(c.headers)), { authenticated: true });
});

test("a misconfigured Verifier fails at once", () => {
  assert.throws(() => new Verifier({ secrets: undefined }), TypeError);
  assert.throws(() => new Verifier({ secrets: "" }), TypeError);
  assert.throws(() => new Verifier({ secrets: ["whsec_a", ""] }), TypeError);
  assert.throws(() => new Verifier({ secrets: "s", require: "always" }), TypeError);
});
