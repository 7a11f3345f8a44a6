"""The Flask, Starlette/FastAPI and Django helpers, with the real frameworks (Debian's
python3-flask, python3-starlette, python3-httpx, python3-fastapi, python3-django). A missing
framework skips its tests, unless REVDESK_SDK_FRAMEWORKS=required (CI) makes that a failure."""

import hashlib
import hmac
import importlib.util
import os
import sys
import unittest

from revdesk_webhooks import Verifier

SECRET = "sécret-ключ-🔑"
BODY = (
    '{"triggerEvent":"number.purchased","createdAt":"2026-06-30T19:30:00.000Z","payload":{"id":4821,'
    '"phone_number":"+15551234567","area_code":"555","status":"ACTIVE","organization_id":"…"}}'
).encode("utf-8")


def sign(body, secret=SECRET):
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def headers(signature=None, event_type="number_purchased"):
    h = {"Content-Type": "application/json", "X-revdesk-Event-Type": event_type, "X-revdesk-Delivery-Id": "dlv_1"}
    if signature is not None:
        h["X-revdesk-Signature-256"] = signature
    return h


def needs(*modules):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing and os.environ.get("REVDESK_SDK_FRAMEWORKS") == "required":
        raise RuntimeError("missing %s for %s (apt-get install python3-flask python3-starlette python3-httpx python3-fastapi python3-django)" % (", ".join(missing), sys.executable))
    return unittest.skipIf(missing, "not installed for %s: %s" % (sys.executable, ", ".join(missing)))


# (name, headers, body, status): what every framework helper must answer.
CASES = [
    ("valid", headers(sign(BODY)), BODY, 204),
    ("wrong secret", headers(sign(BODY, "other")), BODY, 401),
    ("no signature", headers(), BODY, 401),
    ("re-serialised body", headers(sign(BODY)), BODY.replace(b'":', b'": '), 401),
    ("unsigned call refused: a signature is required", headers(event_type="call_completed"), b'{"id":"call_1"}', 401),
    ("unknown type", headers(sign(BODY), "number_stolen"), BODY, 400),
]


def verifier():
    return Verifier(["whsec_new", SECRET], require="signature")


class ImportsNothing(unittest.TestCase):
    def test_helpers_do_not_import_their_framework(self):
        code = (
            "import sys, revdesk_webhooks, revdesk_webhooks.flask, revdesk_webhooks.starlette, revdesk_webhooks.django;"
            "print(','.join(m for m in ('flask', 'starlette', 'fastapi', 'django') if m in sys.modules))"
        )
        import subprocess

        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        self.assertEqual(out.stdout.strip(), "")


@needs("flask")
class Flask(unittest.TestCase):
    def test_webhook_decorator(self):
        import flask

        from revdesk_webhooks.flask import webhook

        app = flask.Flask(__name__)
        got = []

        @app.post("/hooks")
        @webhook(verifier())
        def hooks(event):
            got.append(event)
            return "", 204

        client = app.test_client()
        for name, h, body, status in CASES:
            with self.subTest(name):
                resp = client.post("/hooks", data=body, headers=h)
                self.assertEqual(resp.status_code, status, resp.get_data(as_text=True))
                if status >= 400:
                    self.assertIn("code", resp.get_json()["error"])
        self.assertEqual([(e.type, e.delivery_id, e.data["id"]) for e in got], [("number_purchased", "dlv_1", 4821)])


@needs("starlette", "httpx")
class Starlette(unittest.TestCase):
    def test_verify_request(self):
        from starlette.applications import Starlette as App
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route
        from starlette.testclient import TestClient

        from revdesk_webhooks import WebhookVerificationError
        from revdesk_webhooks.starlette import verify_request

        v = verifier()

        async def hooks(request):
            try:
                event = await verify_request(v, request)
            except WebhookVerificationError as e:
                return JSONResponse({"error": {"code": e.code}}, status_code=e.status)
            return Response(status_code=204, headers={"X-Phone": event.data["phone_number"]})

        client = TestClient(App(routes=[Route("/hooks", hooks, methods=["POST"])]))
        for name, h, body, status in CASES:
            with self.subTest(name):
                resp = client.post("/hooks", content=body, headers=h)
                self.assertEqual(resp.status_code, status, resp.text)
                if status == 204:
                    self.assertEqual(resp.headers["X-Phone"], "+15551234567")


@needs("fastapi", "httpx")
class FastAPI(unittest.TestCase):
    def test_dependency(self):
        from fastapi import Depends, FastAPI as App
        from fastapi.testclient import TestClient

        from revdesk_webhooks import Event
        from revdesk_webhooks.starlette import dependency

        app = App()
        verified = dependency(verifier())
        got = []

        @app.post("/hooks", status_code=204)
        async def hooks(event: Event = Depends(verified)):
            got.append(event)

        client = TestClient(app)
        for name, h, body, status in CASES:
            with self.subTest(name):
                resp = client.post("/hooks", content=body, headers=h)
                self.assertEqual(resp.status_code, status, resp.text)
                if status >= 400:
                    self.assertIn("code", resp.json()["detail"])
        self.assertEqual(len(got), 1)


@needs("django")
class Django(unittest.TestCase):
    def test_webhook_view(self):
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure(DEBUG=False, ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__, MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"])
            django.setup()
        from django.http import HttpResponse
        from django.test import Client

        from revdesk_webhooks.django import webhook_view

        got = []

        @webhook_view(verifier())
        def hooks(request, event):
            got.append(event)
            return HttpResponse(status=204)

        global urlpatterns
        from django.urls import path

        urlpatterns = [path("hooks", hooks)]
        client = Client(enforce_csrf_checks=True)
        for name, h, body, status in CASES:
            with self.subTest(name):
                extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in h.items() if k != "Content-Type"}
                resp = client.post("/hooks", data=body, content_type="application/json", **extra)
                self.assertEqual(resp.status_code, status, resp.content)
        self.assertEqual(client.get("/hooks").status_code, 405)
        self.assertEqual(len(got), 1)


urlpatterns = []

if __name__ == "__main__":
    unittest.main()
