"""Whole deliveries: the receiver's configuration (Verifier), parsing, deduplication."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Union

from ._verify import (
    HEADER_DELIVERY_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_SIGNATURE_256,
    HEADER_SUBSCRIPTION_ID,
    HEADER_WEBHOOK_ID,
    HEADER_WEBHOOK_SIGNATURE,
    HEADER_WEBHOOK_TIMESTAMP,
    NO_SECRET,
    Body,
    WebhookVerificationError,
    _bytes,
    get_header,
    verify_signature,
    verify_standard_webhooks,
)
from .events import EVENT_TYPES, Appointment, CallRecord, Contact, NumberLifecycle, SMSMessage, TextingRegistration, WorkflowContactCompleted

__all__ = ["REQUIREMENTS", "EventData", "Event", "ParsedEvent", "Verifier", "parse_event", "Deduplicator"]

#: What a Verifier insists on, beyond the documentation's rule that signed event types carry
#: X-revdesk-Signature-256:
#:
#: - ``"none"`` (default): the documented contract. Call and SMS deliveries, which the
#:   documentation leaves unsigned, pass unauthenticated (``event.authenticated`` False);
#:   Standard Webhooks headers are checked when present.
#: - ``"signature"``: every delivery needs a valid signature of either kind, so call and SMS
#:   deliveries need the subscription's Standard Webhooks opt-in, and no-secret-provided is
#:   refused even with allow_no_secret.
#: - ``"standard_webhooks"``: every delivery needs valid Standard Webhooks headers, so none can
#:   be replayed outside the tolerance.
REQUIREMENTS = ("none", "signature", "standard_webhooks")

EventData = Union[CallRecord, SMSMessage, NumberLifecycle, Contact, TextingRegistration, Appointment, WorkflowContactCompleted]


@dataclass(frozen=True)
class ParsedEvent:
    """A delivery body, parsed. ``data`` is the body of flat types, the envelope's payload otherwise.

    ``data`` is typed as the union of the payload TypedDicts; after checking ``type``, narrow it for
    a type checker with ``typing.cast(NumberLifecycle, event.data)`` (``DATA_TYPES`` maps each
    event type to its TypedDict).
    """

    type: str
    data: EventData
    #: From the envelope; None for flat (call and SMS) types.
    trigger_event: Optional[str]
    created_at: Optional[str]


@dataclass(frozen=True)
class Event(ParsedEvent):
    """A verified, parsed delivery."""

    event_id: Optional[str] = None
    #: Deduplicate on it: delivery is at-least-once (see Deduplicator).
    delivery_id: Optional[str] = None
    subscription_id: Optional[str] = None
    #: A signature was verified (False for an unsigned call/SMS delivery or an allowed no-secret-provided).
    authenticated: bool = False


def parse_event(event_type: str, body: Body) -> ParsedEvent:
    """Parses a delivery body of event_type (the X-revdesk-Event-Type header) without verifying it.

    For enveloped types the envelope's triggerEvent must match, so a signed body cannot be passed
    off as another event type. Raises WebhookVerificationError (``unknown_event_type``,
    ``malformed_body``).
    """
    info = EVENT_TYPES.get(event_type)
    if info is None:
        raise WebhookVerificationError("unknown_event_type", "unknown event type %r" % event_type)
    try:
        doc = json.loads(_bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WebhookVerificationError("malformed_body", "%s body is not JSON: %s" % (event_type, e)) from None
    if not isinstance(doc, dict):
        raise WebhookVerificationError("malformed_body", "%s body must be a JSON object" % event_type)
    if info["shape"] == "flat":
        return ParsedEvent(event_type, doc, None, None)  # type: ignore[arg-type]
    if doc.get("triggerEvent") != info["trigger_event"]:
        raise WebhookVerificationError(
            "malformed_body", "triggerEvent %r does not match event type %s" % (doc.get("triggerEvent"), event_type)
        )
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        raise WebhookVerificationError("malformed_body", "%s payload must be a JSON object" % event_type)
    created_at = doc.get("createdAt")
    return ParsedEvent(event_type, payload, info["trigger_event"], created_at if isinstance(created_at, str) else None)  # type: ignore[arg-type]


class Verifier:
    """Verifies and parses whole deliveries against a receiver's configuration.

    ``secrets`` are tried in order: during a rotation overlap hold the new and the previous one
    (the documented header keeps the previous secret until ``new_secret_active_at``, the Standard
    Webhooks header carries both). ``tolerance`` is in seconds; ``require`` is one of
    REQUIREMENTS; ``clock`` returns Unix seconds.
    """

    def __init__(
        self,
        secrets: Union[str, Sequence[str]],
        *,
        tolerance: Optional[float] = None,
        allow_no_secret: bool = False,
        require: str = "none",
        clock: Callable[[], float] = time.time,
    ) -> None:
        listed = [secrets] if isinstance(secrets, str) else list(secrets)
        # An unset environment variable must not silently refuse (or accept) everything.
        if any(not isinstance(s, str) or s == "" for s in listed):
            raise TypeError("Verifier: secrets must be a non-empty string or a list of them")
        if require not in REQUIREMENTS:
            raise ValueError("Verifier: require must be one of %s" % ", ".join(REQUIREMENTS))
        self._secrets = listed
        self._tolerance = tolerance
        self._allow_no_secret = allow_no_secret
        self._require = require
        self._clock = clock

    def verify_request(self, body: Body, headers: Mapping[str, Any]) -> bool:
        """Checks a delivery's signatures; returns whether one was verified.

        Raises WebhookVerificationError (its ``code`` and ``status`` say why).
        """
        event_type = get_header(headers, HEADER_EVENT_TYPE) or ""
        if not event_type:
            raise WebhookVerificationError("missing_event_type", "missing %s header" % HEADER_EVENT_TYPE)
        info = EVENT_TYPES.get(event_type)
        if info is None:
            raise WebhookVerificationError("unknown_event_type", "unknown event type %r" % event_type)
        authenticated = False
        if info["signed"]:
            header = get_header(headers, HEADER_SIGNATURE_256)
            if not ((header or "").strip() == NO_SECRET and self._allow_no_secret and self._require == "none"):
                self._any_secret(lambda s: verify_signature(body, header, s))
                authenticated = True
        present = any(get_header(headers, h) for h in (HEADER_WEBHOOK_ID, HEADER_WEBHOOK_TIMESTAMP, HEADER_WEBHOOK_SIGNATURE))
        if present or self._require == "standard_webhooks":
            now = self._clock()
            self._any_secret(lambda s: verify_standard_webhooks(body, headers, s, self._tolerance, now))
            authenticated = True
        if self._require == "signature" and not authenticated:
            raise WebhookVerificationError(
                "missing_signature", "%s is unsigned unless the subscription opts in to Standard Webhooks" % event_type
            )
        return authenticated

    def receive(self, body: Body, headers: Mapping[str, Any]) -> Event:
        """Verifies a delivery and parses it: what a view needs."""
        authenticated = self.verify_request(body, headers)
        p = parse_event(get_header(headers, HEADER_EVENT_TYPE) or "", body)
        return Event(
            p.type,
            p.data,
            p.trigger_event,
            p.created_at,
            event_id=get_header(headers, HEADER_EVENT_ID),
            delivery_id=get_header(headers, HEADER_DELIVERY_ID),
            subscription_id=get_header(headers, HEADER_SUBSCRIPTION_ID),
            authenticated=authenticated,
        )

    def _any_secret(self, check: Callable[[str], None]) -> None:
        # Passes if any secret verifies; errors other than invalid_signature (missing headers,
        # timestamps) do not depend on the secret.
        secrets: Iterable[str] = self._secrets or [""]
        last: Optional[WebhookVerificationError] = None
        for s in secrets:
            try:
                check(s)
                return
            except WebhookVerificationError as e:
                if e.code != "invalid_signature":
                    raise
                last = e
        assert last is not None
        raise last


class Deduplicator:
    """Remembers delivery ids (X-revdesk-Delivery-Id, the same on every attempt) in bounded memory,
    in one process: delivery is at-least-once, so a receiver may see an attempt again after
    answering it. Thread-safe. The default ttl of 48 hours covers the default retry schedule
    (about 33 hours).
    """

    def __init__(self, max_entries: int = 100_000, ttl: float = 48 * 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max(1, max_entries)
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # Insertion order is expiry order: every id has the same ttl.
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def first(self, delivery_id: Optional[str]) -> bool:
        """Whether delivery_id is new; remembers it. Call forget() if processing then fails, so the retry is processed."""
        if not delivery_id:
            return True
        now = self._clock()
        with self._lock:
            self._expire(now)
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def forget(self, delivery_id: str) -> None:
        with self._lock:
            self._seen.pop(delivery_id, None)

    def __len__(self) -> int:
        now = self._clock()
        with self._lock:
            self._expire(now)
            return len(self._seen)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._ttl:
                return
            del self._seen[oldest]
