"""Receiver SDK for RevDesk webhooks (standard library only).

Verifies deliveries (the documented X-revdesk-Signature-256 header and the Standard Webhooks
headers), parses both body shapes into typed events, and deduplicates on the delivery id.
Framework helpers import their framework only when used: ``revdesk_webhooks.flask``,
``revdesk_webhooks.starlette`` (Starlette and FastAPI) and ``revdesk_webhooks.django``.

Call and SMS deliveries are unsigned by the documentation. To authenticate them, create the
subscription with ``"standard_webhooks": true`` (which signs every family) and construct the
Verifier with ``require="signature"`` or ``require="standard_webhooks"``.
"""

from ._receiver import REQUIREMENTS, Deduplicator, Event, EventData, ParsedEvent, Verifier, parse_event
from ._verify import (
    DEFAULT_TOLERANCE,
    HEADER_DELIVERY_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_SIGNATURE_256,
    HEADER_SUBSCRIPTION_ID,
    HEADER_WEBHOOK_ID,
    HEADER_WEBHOOK_SIGNATURE,
    HEADER_WEBHOOK_TIMESTAMP,
    NO_SECRET,
    WebhookVerificationError,
    get_header,
    standard_key,
    verify_signature,
    verify_standard_webhooks,
)
from .events import (
    DATA_TYPES,
    EVENT_TYPES,
    Appointment,
    CallRecord,
    Contact,
    EventTypeInfo,
    NumberLifecycle,
    SMSMessage,
    TextingRegistration,
    WorkflowContactCompleted,
)

__version__ = "0.1.0"

__all__ = [
    "REQUIREMENTS",
    "Deduplicator",
    "Event",
    "EventData",
    "ParsedEvent",
    "Verifier",
    "parse_event",
    "DEFAULT_TOLERANCE",
    "HEADER_DELIVERY_ID",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_SIGNATURE_256",
    "HEADER_SUBSCRIPTION_ID",
    "HEADER_WEBHOOK_ID",
    "HEADER_WEBHOOK_SIGNATURE",
    "HEADER_WEBHOOK_TIMESTAMP",
    "NO_SECRET",
    "WebhookVerificationError",
    "get_header",
    "standard_key",
    "verify_signature",
    "verify_standard_webhooks",
    "DATA_TYPES",
    "EVENT_TYPES",
    "Appointment",
    "CallRecord",
    "Contact",
    "EventTypeInfo",
    "NumberLifecycle",
    "SMSMessage",
    "TextingRegistration",
    "WorkflowContactCompleted",
]
