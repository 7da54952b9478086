"""The JSON API, version 1: one NinjaAPI, its routers, and the one error shape for every error.

Every error, ours or the framework's, is answered as {"error": {"code", "message", "details"}}.
Callers are signed in by an API token (`Authorization: Bearer ...`) or a session with its CSRF
token for writes (see attrition.api.auth); anonymous and signed-in callers are rate-limited.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from attrition.api import account, capture, losses
from attrition.api.auth import SIGNED_IN, THROTTLES
from attrition.errors import AttritionError

api = NinjaAPI(
    title="attrition API",
    version="1",
    description="The ledger of equipment losses and the evidence behind it.",
    urls_namespace="api",
    auth=SIGNED_IN,
    throttle=THROTTLES,
)


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    """Return the one JSON error shape with an HTTP status."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return api.create_response(request, body, status=status)


@api.exception_handler(AttritionError)
def on_attrition_error(request: HttpRequest, exc: AttritionError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {"at": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return error_response(
        request,
        status=422,
        code="invalid",
        message="the request does not match the API's schema",
        details={"problems": problems},
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # Ninja's own message is "Unauthorized"; ours (a bad token) says what is wrong.
    message = exc.message if exc.message != "Unauthorized" else ""
    return error_response(
        request,
        status=401,
        code="unauthenticated",
        message=message or "sign in, or send an API token, to use this endpoint",
    )


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = None if exc.wait is None else max(1, math.ceil(exc.wait))
    return error_response(
        request,
        status=429,
        code="rate_limited",
        message="too many requests: wait before trying again"
        + (f" ({wait} s)" if wait is not None else ""),
        details={"retry_after_s": wait} if wait is not None else None,
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message=str(exc) or "not found")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "forbidden" if exc.status_code == 403 else "error"
    return error_response(request, status=exc.status_code, code=code, message=str(exc))


api.add_router("/v1/captures", capture.router)
api.add_router("/v1/me", account.router)
api.add_router("/v1/losses", losses.router)
api.add_router("/v1/territory", "attrition.api.territory.router")
api.add_router("/v1", "attrition.api.counting.router")
api.add_router("/v1/conflicts", "attrition.api.ledger.conflicts")
api.add_router("/v1/categories", "attrition.api.ledger.categories")
api.add_router("/v1/models", "attrition.api.ledger.models")
api.add_router("/v1/stats", "attrition.api.ledger.stats")
api.add_router("/v1/losses", "attrition.api.ledger.loss_reads")
api.add_router("/v1/exports", "attrition.api.ledger.exports")
