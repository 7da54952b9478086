"""HTTP caching and CORS for the API's reads, in one middleware.

Every successful GET or HEAD under /api/v1/ gets a strong ETag (a hash of its body, unless the
endpoint set one) and is answered 304 Not Modified when the caller's If-None-Match matches.
Reads may be called from any web page (`Access-Control-Allow-Origin: *`, never with
credentials, so a browser sends no cookie cross-origin); writes get no CORS headers at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag

PREFIX = "/api/v1/"
READS = frozenset({"GET", "HEAD"})
ALLOW_HEADERS = "Authorization, If-None-Match, If-Modified-Since"
EXPOSE_HEADERS = "ETag, Last-Modified, Retry-After, Content-Disposition"


def file_response(*media_types: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return an operation's `openapi_extra` saying its 200 answer is a file of these types."""
    body = {"type": "string"} if schema is None else schema
    content = {kind: {"schema": body} for kind in media_types}
    return {"responses": {200: {"description": "OK", "content": content}}}


def _cors(response: HttpResponseBase) -> HttpResponseBase:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


class ApiReadMiddleware:
    """Add ETags, 304s and CORS headers to API reads; answer CORS preflights of reads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        if request.method == "OPTIONS" and request.headers.get("Origin"):
            wanted = request.headers.get("Access-Control-Request-Method", "")
            if wanted in READS:
                preflight = HttpResponse(status=204)
                preflight["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
                preflight["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                preflight["Access-Control-Max-Age"] = "86400"
                return _cors(preflight)
        response = self.get_response(request)
        if request.method not in READS:
            return response
        # What a read shows depends on who asks (editors see more of some records).
        patch_vary_headers(response, ("Cookie", "Authorization"))
        if response.status_code == 200 and isinstance(response, HttpResponse):
            if not response.has_header("ETag"):
                set_response_etag(response)
            # Only the ETag decides: Last-Modified is informative (a loss that stops being
            # public changes a list without moving the ledger's last verified change).
            conditional = get_conditional_response(
                request, etag=response["ETag"], response=response
            )
            if conditional is not None:
                response = conditional
        return _cors(response)
