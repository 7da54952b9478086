"""CSRF: every state-changing request of a signed-in browser session needs the CSRF token.

Every URL of the site and the admin is tried (the URL resolver is the list), with each unsafe
method and a session but no token: each is refused before any view runs. The API's operations
that change state refuse a session without the token too; a bearer token needs none, by design
(a browser never sends one by itself: tests/api/test_tokens.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from attrition.accounts.models import User

pytestmark = pytest.mark.django_db

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CONVERTED = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Yield every route of the URL map, as a path with sample values in its parameters."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield CONVERTED.sub(lambda m: "1" if m.group(1) == "int" else "x", route)


def regex_route(route: str) -> bool:
    """Return whether a route is a regular expression (the admin's catch-alls) left as written."""
    return route.startswith("^") or "(?P<" in route


SITE_ROUTES = sorted({"/" + r for r in routes() if not r.startswith("api/") and not regex_route(r)})


@pytest.fixture
def browser_session(admin_user: User) -> Client:
    """Return a client signed in as the admin (every view is open to her) enforcing CSRF."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def test_the_list_covers_the_site_the_admin_and_the_editors_pages() -> None:
    for expected in [
        "/capture/",
        "/review/losses/1/act",
        "/account/tokens/1/revoke",
        "/admin/losses/loss/",
        "/admin/losses/loss/x/change/",
        "/ops/jobs/1/retry",
    ]:
        assert expected in SITE_ROUTES
    assert len(SITE_ROUTES) > 100


@pytest.mark.parametrize("path", SITE_ROUTES)
def test_every_unsafe_request_without_the_token_is_refused(
    browser_session: Client, path: str
) -> None:
    for method in UNSAFE:
        response = browser_session.generic(
            method, path, data=b"a=1", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 403, (method, path, response.status_code)
        assert b"CSRF" in response.content, (method, path)


def test_the_token_lets_the_same_request_through(browser_session: Client) -> None:
    browser_session.get("/capture/")
    token = browser_session.cookies["csrftoken"].value
    response = browser_session.post(
        "/capture/", {"urls": "https://t.me/a/1"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code in {200, 302}


def api_writes() -> list[tuple[str, str]]:
    """Return (method, path) of every API operation that changes state."""
    from attrition.api.main import api

    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        for method in operations:
            if method.upper() in UNSAFE:
                found.append(
                    (method.upper(), CONVERTED.sub("1", path.replace("{", "<").replace("}", ">")))
                )
    return found


def test_the_api_has_writes_to_check() -> None:
    assert ("POST", "/api/v1/losses") in api_writes()
    assert len(api_writes()) >= 8


@pytest.mark.parametrize(("method", "path"), api_writes())
def test_every_api_write_by_session_needs_the_token(
    browser_session: Client, method: str, path: str
) -> None:
    response = browser_session.generic(
        method, path, data=json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 403, (method, path, response.content)
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == "forbidden"
    assert "CSRF" in body["error"]["message"]
