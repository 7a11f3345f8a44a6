"""Signature checks: the documented X-revdesk-Signature-256 header and the Standard Webhooks headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any, Mapping, Optional, Union

__all__ = [
    "HEADER_SIGNATURE_256",
    "HEADER_EVENT_TYPE",
    "HEADER_EVENT_ID",
    "HEADER_DELIVERY_ID",
    "HEADER_SUBSCRIPTION_ID",
    "HEADER_WEBHOOK_ID",
    "HEADER_WEBHOOK_TIMESTAMP",
    "HEADER_WEBHOOK_SIGNATURE",
    "NO_SECRET",
    "DEFAULT_TOLERANCE",
    "WebhookVerificationError",
    "get_header",
    "verify_signature",
    "verify_standard_webhooks",
    "standard_key",
]

HEADER_SIGNATURE_256 = "X-revdesk-Signature-256"
HEADER_EVENT_TYPE = "X-revdesk-Event-Type"
HEADER_EVENT_ID = "X-revdesk-Event-Id"
HEADER_DELIVERY_ID = "X-revdesk-Delivery-Id"
HEADER_SUBSCRIPTION_ID = "X-revdesk-Subscription-Id"
#: Standard Webhooks headers, sent when the subscription has "standard_webhooks": true.
HEADER_WEBHOOK_ID = "webhook-id"
HEADER_WEBHOOK_TIMESTAMP = "webhook-timestamp"
HEADER_WEBHOOK_SIGNATURE = "webhook-signature"

#: The X-revdesk-Signature-256 value of a subscription created without a secret.
NO_SECRET = "no-secret-provided"
#: Seconds webhook-timestamp may be from now unless told otherwise (the Standard Webhooks default).
DEFAULT_TOLERANCE = 300.0

_BAD_REQUEST = frozenset({"missing_event_type", "unknown_event_type", "malformed_body"})
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# Padded standard base64, as Go's base64.StdEncoding accepts it: the SDKs must
# agree on what decodes.
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_TIMESTAMP = re.compile(r"[0-9]{1,15}")

Body = Union[bytes, bytearray, memoryview, str]


class WebhookVerificationError(Exception):
    """A refused delivery.

    ``code`` names the reason as the shared test vectors do (``missing_signature``,
    ``no_secret``, ``invalid_signature``, ``timestamp_too_old``, ``timestamp_too_new``,
    ``missing_event_type``, ``unknown_event_type``, ``malformed_body``); ``status`` is the HTTP
    status to answer (400 or 401).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = 400 if code in _BAD_REQUEST else 401


def _bytes(body: Body) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def get_header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    """Reads a header from any mapping (Flask, Starlette and Django headers, a plain dict), ignoring case."""
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = headers.get(lower)
        if value is None:
            for key in headers.keys():
                if isinstance(key, str) and key.lower() == lower:
                    value = headers[key]
                    break
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def verify_signature(body: Body, header: Optional[str], secret: str) -> None:
    """Checks X-revdesk-Signature-256: the lowercase hex HMAC-SHA256 of the raw body keyed with
    the UTF-8 bytes of secret, compared in constant time. Pass the body exactly as received.

    Raises WebhookVerificationError: ``missing_signature``, ``no_secret`` (the header is
    no-secret-provided) or ``invalid_signature``.
    """
    value = (header or "").strip()
    if value == "":
        raise WebhookVerificationError("missing_signature", "missing %s header" % HEADER_SIGNATURE_256)
    if value == NO_SECRET:
        raise WebhookVerificationError("no_secret", "the subscription has no signing secret, so the delivery cannot be authenticated")
    if secret == "":
        raise WebhookVerificationError("invalid_signature", "no secret configured on the receiver")
    if not _HEX_SHA256.fullmatch(value):
        raise WebhookVerificationError("invalid_signature", "%s is not a hex HMAC-SHA256" % HEADER_SIGNATURE_256)
    want = hmac.new(secret.encode("utf-8"), _bytes(body), hashlib.sha256).digest()
    if not hmac.compare_digest(bytes.fromhex(value), want):
        raise WebhookVerificationError("invalid_signature", "invalid signature")


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks key: the base64-decoded part of a whsec_ secret, otherwise the secret's UTF-8 bytes."""
    if secret.startswith("whsec_"):
        rest = secret[len("whsec_"):]
        if rest and _BASE64.fullmatch(rest):
            return base64.b64decode(rest)
    return secret.encode("utf-8")


def verify_standard_webhooks(
    body: Body,
    headers: Mapping[str, Any],
    secret: str,
    tolerance: Optional[float] = None,
    now: Optional[float] = None,
) -> None:
    """Checks the Standard Webhooks headers: webhook-timestamp within ``tolerance`` seconds
    (default 300) of ``now`` (Unix seconds, default the clock), and one ``v1,`` signature of
    webhook-signature (there are two during a secret rotation) matching HMAC-SHA256 of
    ``id.timestamp.body``.

    Raises WebhookVerificationError: ``missing_signature``, ``timestamp_too_old``,
    ``timestamp_too_new`` or ``invalid_signature``.
    """
    msg_id = get_header(headers, HEADER_WEBHOOK_ID) or ""
    ts = get_header(headers, HEADER_WEBHOOK_TIMESTAMP) or ""
    sigs = get_header(headers, HEADER_WEBHOOK_SIGNATURE) or ""
    if not msg_id or not ts or not sigs:
        raise WebhookVerificationError("missing_signature", "webhook-id, webhook-timestamp and webhook-signature are required")
    if secret == "":
        raise WebhookVerificationError("invalid_signature", "no secret configured on the receiver")
    if not _TIMESTAMP.fullmatch(ts):
        raise WebhookVerificationError("invalid_signature", "malformed webhook-timestamp")
    if tolerance is None or tolerance <= 0:
        tolerance = DEFAULT_TOLERANCE
    current = time.time() if now is None else now
    sent = int(ts)
    if current - sent > tolerance:
        raise WebhookVerificationError("timestamp_too_old", "webhook-timestamp is older than the tolerance (a replay?)")
    if sent - current > tolerance:
        raise WebhookVerificationError("timestamp_too_new", "webhook-timestamp is further in the future than the tolerance")
    mac = hmac.new(standard_key(secret), ("%s.%s." % (msg_id, ts)).encode("utf-8"), hashlib.sha256)
    mac.update(_bytes(body))
    want = mac.digest()
    for sig in sigs.split():
        version, comma, value = sig.partition(",")
        # Other schemes (e.g. v1a, asymmetric) are not ours to check.
        if not comma or version != "v1" or not _BASE64.fullmatch(value):
            continue
        if hmac.compare_digest(base64.b64decode(value), want):
            return
    raise WebhookVerificationError("invalid_signature", "no webhook-signature matches")
