"""The Content-Security-Policy of every page: scripts, styles and everything else from this site.

Pages load only the site's own files (htmx, Leaflet and Chart.js are vendored), so an injected
`<script>`, event handler or `javascript:` URL does not run even if escaping ever failed. Style
attributes stay allowed (the border bars are drawn with them); `<style>` elements do not. Map
tiles may come from the configured tile server. A response that sets its own policy (the
downloads of originals) keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from attrition import config

DOCUMENT_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml")
HOST_SOURCE = re.compile(r"^[A-Za-z0-9*.-]+(?::[0-9]+)?$")


def page_policy(*, tile_url: str = "") -> str:
    """Return the policy for pages, letting images come from the tile server when one is set."""
    images = ["'self'", "data:", "blob:"]
    parts = urlsplit(tile_url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        # The host may hold {s} (subdomains a, b, c): allow any subdomain of what follows it.
        host = parts.netloc.replace("{s}.", "*.").replace("{s}", "*")
        if HOST_SOURCE.match(host):
            images.append(f"{parts.scheme}://{host}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Add the page policy to every HTML (or SVG) response that has no policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        kind = response.get("Content-Type", "").partition(";")[0].strip().lower()
        if kind in DOCUMENT_TYPES and not response.has_header("Content-Security-Policy"):
            policy = page_policy(tile_url=config.MAP_TILE_URL.read())
            response["Content-Security-Policy"] = policy
        return response
