// The CommonJS build: require() gets the same API.
const assert = require("node:assert/strict");
const { test } = require("node:test");
const sdk = require("..");

test("require() loads the CommonJS build", () => {
  assert.equal(typeof sdk.verifySignature, "function");
  assert.equal(typeof sdk.Verifier, "function");
  assert.equal(Object.keys(sdk.EVENT_TYPES).length, 21);
  assert.throws(() => sdk.verifySignature("{}", "no-secret-provided", "s"), { code: "no_secret" });
  assert.ok(require.resolve("..").endsWith("dist/cjs/index.js".split("/").join(require("node:path").sep)));
});
