"""Parsing every catalog example as the server delivers it; the typed payloads; deduplication."""

import base64
import json
import pathlib
import re
import threading
import typing
import unittest

import revdesk_webhooks
from revdesk_webhooks import DATA_TYPES, EVENT_TYPES, Deduplicator, WebhookVerificationError, parse_event

REPO = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "internal" / "catalog" / "examples"
VECTORS = json.loads((REPO / "sdk" / "vectors" / "signatures.json").read_text("utf-8"))


class Parse(unittest.TestCase):
    def test_knows_the_catalog(self):
        names = sorted(p.stem for p in EXAMPLES.glob("*.json"))
        self.assertEqual(len(names), 21)
        self.assertEqual(sorted(EVENT_TYPES), names)
        self.assertEqual(sorted(DATA_TYPES), names)

    def test_every_example_as_delivered(self):
        for name, info in EVENT_TYPES.items():
            with self.subTest(name):
                example = (EXAMPLES / (name + ".json")).read_text("utf-8").strip()
                if info["shape"] == "flat":
                    body = example
                else:  # the server's envelope, byte for byte (catalog.Body)
                    body = '{"triggerEvent":"%s","createdAt":"2026-06-30T19:30:00.000Z","payload":%s}' % (info["trigger_event"], example)
                ev = parse_event(name, body.encode("utf-8"))
                self.assertEqual(ev.type, name)
                self.assertEqual(ev.data, json.loads(example))
                self.assertEqual(ev.trigger_event, info["trigger_event"])
                self.assertEqual(ev.created_at, None if info["shape"] == "flat" else "2026-06-30T19:30:00.000Z")
                self.assertEqual(info["signed"], info["shape"] == "enveloped")

    def test_examples_have_their_typed_keys(self):
        for name, cls in DATA_TYPES.items():
            with self.subTest(name):
                example = json.loads((EXAMPLES / (name + ".json")).read_text("utf-8"))
                required = getattr(cls, "__required_keys__", None)
                if required is None:  # Python < 3.9.2 lacks __required_keys__
                    self.skipTest("no __required_keys__")
                self.assertLessEqual(set(required), set(example))
                self.assertTrue(set(typing.get_type_hints(cls)) & set(example))

    def test_vector_bodies_parse(self):
        n = 0
        for c in VECTORS["signatures"]:
            m = re.fullmatch(r"(\w+): documented header, whsec_ secret", c["name"])
            if m:
                self.assertEqual(parse_event(m.group(1), base64.b64decode(c["body_base64"])).type, m.group(1))
                n += 1
        self.assertEqual(n, 21)

    def test_malformed(self):
        for name, event_type, body, code in [
            ("unknown type", "call_answered", b"{}", "unknown_event_type"),
            ("not JSON", "call_completed", b'{"id":', "malformed_body"),
            ("not an object", "sms_sent", b"[1]", "malformed_body"),
            ("invalid UTF-8", "sms_sent", b"{\xff}", "malformed_body"),
            ("relabelled envelope", "number_released", b'{"triggerEvent":"number.purchased","createdAt":"x","payload":{}}', "malformed_body"),
            ("payload not an object", "number_purchased", b'{"triggerEvent":"number.purchased","createdAt":"x","payload":null}', "malformed_body"),
        ]:
            with self.subTest(name), self.assertRaises(WebhookVerificationError) as e:
                parse_event(event_type, body)
            self.assertEqual((e.exception.code, e.exception.status), (code, 400))

    def test_py_typed_ships(self):
        self.assertTrue((pathlib.Path(revdesk_webhooks.__file__).parent / "py.typed").exists())


class Dedup(unittest.TestCase):
    def setUp(self):
        self.now = 1000.0
        self.d = Deduplicator(max_entries=3, ttl=3600, clock=lambda: self.now)

    def test_repeat_forget_bound_expiry(self):
        d = self.d
        self.assertTrue(d.first("dlv_1"))
        self.assertFalse(d.first("dlv_1"))
        d.forget("dlv_1")
        d.forget("dlv_unknown")
        self.assertTrue(d.first("dlv_1"))
        for i in range(2, 6):
            d.first("dlv_%d" % i)
        self.assertEqual(len(d), 3)
        self.assertFalse(d.first("dlv_5"))
        self.assertTrue(d.first("dlv_1"), "the oldest was dropped")
        self.now += 3599
        self.assertFalse(d.first("dlv_1"))
        self.now += 1
        self.assertEqual(len(d), 0, "all expired")
        self.assertTrue(d.first(""))
        self.assertTrue(d.first(None))

    def test_concurrent_one_winner(self):
        d = Deduplicator()
        wins = []
        threads = [threading.Thread(target=lambda: wins.append(d.first("dlv_same"))) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(wins.count(True), 1)


if __name__ == "__main__":
    unittest.main()
