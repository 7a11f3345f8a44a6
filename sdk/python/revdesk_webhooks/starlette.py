"""Starlette and FastAPI helpers. Import Starlette only when used.

FastAPI::

    from fastapi import Depends, FastAPI
    from revdesk_webhooks import Event, Verifier
    from revdesk_webhooks.starlette import dependency

    verified = dependency(Verifier(os.environ["REVDESK_WEBHOOK_SECRET"], require="signature"))

    @app.post("/hooks/revdesk", status_code=204)
    async def hooks(event: Event = Depends(verified)):
        ...

Starlette: ``event = await verify_request(verifier, request)`` in an endpoint.
"""

# No "from __future__ import annotations": FastAPI reads the dependency's
# annotation (Request, imported locally) at runtime.
from typing import Any, Awaitable, Callable

from ._receiver import Event, Verifier

__all__ = ["verify_request", "dependency"]


async def verify_request(verifier: Verifier, request: Any) -> Event:
    """Verifies and parses a Starlette request from its raw body; raises WebhookVerificationError."""
    return verifier.receive(await request.body(), request.headers)


def dependency(verifier: Verifier) -> Callable[[Any], Awaitable[Event]]:
    """A FastAPI dependency giving the verified Event; a refused delivery becomes an HTTPException (400/401)."""
    from fastapi import HTTPException
    from starlette.requests import Request

    from ._verify import WebhookVerificationError

    async def verified(request: Request) -> Event:
        try:
            return await verify_request(verifier, request)
        except WebhookVerificationError as e:
            raise HTTPException(status_code=e.status, detail={"code": e.code, "message": str(e)}) from None

    return verified
