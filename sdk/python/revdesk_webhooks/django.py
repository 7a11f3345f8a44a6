"""Django helper. Imports Django only when used.

::

    from revdesk_webhooks import Verifier
    from revdesk_webhooks.django import webhook_view

    verifier = Verifier(settings.REVDESK_WEBHOOK_SECRETS, require="signature")

    @webhook_view(verifier)
    def hooks(request, event):
        ...
        return HttpResponse(status=204)

The decorated view is CSRF-exempt (RevDesk cannot send a CSRF token; the signature authenticates
it) and accepts POST only.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ._receiver import Verifier
from ._verify import WebhookVerificationError

__all__ = ["webhook_view"]


def webhook_view(verifier: Verifier) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorates a view ``(request, event, ...)``; a refused delivery is answered 400/401 with a JSON error."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        # Django ships no type information.
        from django.http import JsonResponse  # type: ignore[import]
        from django.views.decorators.csrf import csrf_exempt  # type: ignore[import]
        from django.views.decorators.http import require_POST  # type: ignore[import]

        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                event = verifier.receive(request.body, request.headers)
            except WebhookVerificationError as e:
                return JsonResponse({"error": {"code": e.code, "message": str(e)}}, status=e.status)
            return view(request, event, *args, **kwargs)

        view_func: Callable[..., Any] = csrf_exempt(require_POST(wrapper))
        return view_func

    return decorate
