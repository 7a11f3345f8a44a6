"""Real deliveries: a running revdesk server delivers to a standard-library receiver built with
the SDK, which must verify and parse what arrives."""

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from revdesk_webhooks import Verifier, WebhookVerificationError, verify_signature, verify_standard_webhooks

from ._revdesk import REPO, Server, wait_for

NON_ASCII = "sécret-ключ-🔑"
STD_SECRET = "whsec_c2RrLXZlY3RvcnMtc2VjcmV0LTMyLWJ5dGVzLW9rIQ=="
EXAMPLES = REPO / "internal" / "catalog" / "examples"


def example(name):
    return json.loads((EXAMPLES / (name + ".json")).read_text("utf-8"))


# Receivers by path, each with its own configuration.
ROUTES = {
    "/hooks/documented": Verifier([NON_ASCII]),
    "/hooks/standard": Verifier(STD_SECRET, require="standard_webhooks"),
    "/hooks/strict": Verifier(NON_ASCII, require="signature"),
    "/hooks/wrong-secret": Verifier("not-the-secret"),
}


class RealDeliveries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.arrivals = []
        cls.cond = threading.Condition()
        arrivals, cond = cls.arrivals, cls.cond

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                entry = {"path": self.path, "headers": self.headers, "body": body}
                verifier = ROUTES.get(self.path)
                try:
                    if verifier is None:
                        raise WebhookVerificationError("unknown_event_type", "no route")
                    entry["event"] = verifier.receive(body, self.headers)
                    entry["status"] = 204
                except WebhookVerificationError as e:
                    entry["status"], entry["error"] = e.status, e.code
                self.send_response(entry["status"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                with cond:
                    arrivals.append(entry)
                    cond.notify_all()

            def log_message(self, *args):
                pass

        cls.receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        cls.receiver.server_close()
        cls.server.stop()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.receiver.server_address[1], path)

    def subscribe(self, path, event_type, **extra):
        return self.server.api("POST", "/api/v1/webhook_subscriptions", dict(webhook_url=self.url(path), event_type=event_type, **extra))

    def wait(self, predicate, what):
        return wait_for(predicate, what, self.arrivals, self.cond)

    def test_signed_event_with_non_ascii_secret(self):
        self.subscribe("/hooks/documented", "number_released", signing_secret=NON_ASCII)
        sent = self.server.api("POST", "/api/v1/events", {"event_type": "number_released", "data": example("number_released")})
        got = self.wait(lambda a: a.get("event") is not None and a["event"].event_id == sent["id"], "number_released delivery")
        ev = got["event"]
        self.assertEqual((ev.type, ev.trigger_event, ev.authenticated), ("number_released", "number.released", True))
        self.assertEqual(ev.data, example("number_released"))
        self.assertTrue(ev.delivery_id.startswith("dlv_"))

    def test_standard_webhooks_signs_call_events(self):
        self.subscribe("/hooks/standard", "call_busy", signing_secret=STD_SECRET, standard_webhooks=True)
        call = dict(example("call_completed"), id="call_sdk_python", status="BUSY", failure_code="busy", failure_category="busy")
        self.server.api("POST", "/api/v1/events", {"event_type": "call_completed", "data": call})
        got = self.wait(lambda a: a.get("event") is not None and a["event"].data.get("id") == "call_sdk_python", "derived call_busy delivery")
        self.assertEqual((got["event"].type, got["event"].authenticated), ("call_busy", True))
        self.assertEqual(got["headers"]["webhook-id"], got["event"].delivery_id)
        self.assertIsNone(got["headers"].get("X-revdesk-Signature-256"), "call events carry no documented signature")

    def test_unsigned_sms_refused_when_a_signature_is_required(self):
        self.subscribe("/hooks/strict", "sms_failed", signing_secret=NON_ASCII)
        self.server.api("POST", "/api/v1/events", {"event_type": "sms_failed", "data": example("sms_failed")})
        got = self.wait(lambda a: a["path"] == "/hooks/strict", "refused sms_failed delivery")
        self.assertEqual((got["status"], got["error"]), (401, "missing_signature"))

    def test_wrong_secret_refused(self):
        self.subscribe("/hooks/wrong-secret", "workflow_contact_completed", signing_secret=NON_ASCII)
        self.server.api("POST", "/api/v1/events", {"event_type": "workflow_contact_completed", "data": example("workflow_contact_completed")})
        got = self.wait(lambda a: a["path"] == "/hooks/wrong-secret", "refused workflow_contact_completed delivery")
        self.assertEqual((got["status"], got["error"]), (401, "invalid_signature"))

    def test_rotation_overlap(self):
        sub = self.subscribe("/hooks/standard", "texting_registration_status_changed", signing_secret=STD_SECRET, standard_webhooks=True)
        new = "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbi0zMi1ieXRlcyE="
        rotated = self.server.api("POST", "/api/v1/webhook_subscriptions/%s/rotate_secret" % sub["id"], {"signing_secret": new, "overlap_seconds": 3600})
        self.assertIn("new_secret_active_at", rotated)
        data = dict(example("texting_registration_status_changed"), id="reg_rotation")
        self.server.api("POST", "/api/v1/events", {"event_type": "texting_registration_status_changed", "data": data})
        got = self.wait(lambda a: a.get("event") is not None and a["event"].data.get("id") == "reg_rotation", "texting registration delivery")
        self.assertEqual(len(got["headers"]["webhook-signature"].split()), 2, "one signature per secret")
        # The documented header keeps the previous secret until the takeover.
        verify_signature(got["body"], got["headers"]["X-revdesk-Signature-256"], STD_SECRET)
        with self.assertRaises(WebhookVerificationError):
            verify_signature(got["body"], got["headers"]["X-revdesk-Signature-256"], new)
        verify_standard_webhooks(got["body"], got["headers"], new)
        verify_standard_webhooks(got["body"], got["headers"], STD_SECRET)
        self.assertEqual(got["event"].data["texting_enabled_numbers"], data["texting_enabled_numbers"])


if __name__ == "__main__":
    unittest.main()
