"""Flask helper. Imports Flask only when used.

::

    from revdesk_webhooks import Verifier
    from revdesk_webhooks.flask import webhook

    verifier = Verifier(os.environ["REVDESK_WEBHOOK_SECRET"], require="signature")

    @app.post("/hooks/revdesk")
    @webhook(verifier)
    def hooks(event):
        if event.type == "number_purchased":
            print("number live:", event.data["phone_number"])
        return "", 204
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from ._receiver import Event, Verifier
from ._verify import WebhookVerificationError

__all__ = ["verify_request", "webhook"]


def verify_request(verifier: Verifier, request: Optional[Any] = None) -> Event:
    """Verifies and parses the current Flask request (or ``request``) from its raw body."""
    if request is None:
        from flask import request as current

        request = current
    return verifier.receive(request.get_data(cache=True), request.headers)


def webhook(verifier: Verifier) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorates a view taking the verified Event; a refused delivery is answered 400/401 with a JSON error."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flask import jsonify

            try:
                event = verify_request(verifier)
            except WebhookVerificationError as e:
                return jsonify(error={"code": e.code, "message": str(e)}), e.status
            return view(event, *args, **kwargs)

        return wrapper

    return decorate
