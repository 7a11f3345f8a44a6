"""The shared vectors generated from the server's signing code (sdk/vectors/signatures.json)."""

import base64
import json
import pathlib
import unittest

from revdesk_webhooks import Verifier, WebhookVerificationError, get_header, verify_signature, verify_standard_webhooks

VECTORS = json.loads((pathlib.Path(__file__).resolve().parents[2] / "vectors" / "signatures.json").read_text("utf-8"))


def verdict(fn):
    try:
        fn()
    except WebhookVerificationError as e:
        return e.code
    return "ok"


class SignatureVectors(unittest.TestCase):
    def test_file_has_cases(self):
        self.assertGreater(len(VECTORS["signatures"]), 100)
        self.assertGreater(len(VECTORS["requests"]), 20)

    def test_signatures(self):
        for c in VECTORS["signatures"]:
            with self.subTest(c["name"]):
                body = base64.b64decode(c["body_base64"])
                if c["scheme"] == "documented":
                    got = verdict(lambda: verify_signature(body, get_header(c["headers"], "X-revdesk-Signature-256"), c["secret"]))
                else:
                    got = verdict(
                        lambda: verify_standard_webhooks(body, c["headers"], c["secret"], tolerance=c["tolerance_seconds"], now=c["now"])
                    )
                self.assertEqual(got, c["verdict"])

    def test_requests(self):
        for c in VECTORS["requests"]:
            with self.subTest(c["name"]):
                v = Verifier(
                    c["secrets"],
                    tolerance=c["tolerance_seconds"],
                    allow_no_secret=c["allow_no_secret"],
                    require=c["require"],
                    clock=lambda: float(c["now"]),
                )
                body = base64.b64decode(c["body_base64"])
                result = {}
                got = verdict(lambda: result.setdefault("authenticated", v.verify_request(body, c["headers"])))
                self.assertEqual((got, result.get("authenticated", False)), (c["verdict"], c["authenticated"]))

    def test_body_as_str_and_memoryview(self):
        c = next(v for v in VECTORS["signatures"] if v["name"] == "new_appointment: documented header, non-ASCII secret")
        body = base64.b64decode(c["body_base64"])
        header = c["headers"]["X-revdesk-Signature-256"]
        verify_signature(body.decode("utf-8"), header, c["secret"])
        verify_signature(memoryview(b"xx" + body)[2:], header, c["secret"])
        with self.assertRaises(WebhookVerificationError) as e:
            verify_signature(body + b" ", header, c["secret"])
        self.assertEqual((e.exception.code, e.exception.status), ("invalid_signature", 401))

    def test_misconfiguration_fails_at_once(self):
        for secrets in (None, "", ["whsec_a", ""]):
            with self.subTest(secrets=secrets), self.assertRaises(TypeError):
                Verifier(secrets)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            Verifier("s", require="always")


if __name__ == "__main__":
    unittest.main()
