"""Security headers on pages: a CSP, no framing, no sniffing, and HSTS only over TLS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client

from attrition.site.csp import ContentSecurityPolicyMiddleware, page_policy
from tests.test_settings import SETUP, run_django

PAGES = ["/", "/losses/", "/data/", "/account/login/", "/territory/", "/methodology/", "/api/docs"]


def directives(policy: str) -> dict[str, list[str]]:
    """Return a policy's directives by name."""
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_it_sends_the_security_headers_on_every_page(anon_client: Client, path: str) -> None:
    response = anon_client.get(path, follow=True)
    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline scripts, no eval, no other host
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # no TLS configured here


@pytest.mark.django_db
def test_it_puts_no_inline_script_in_pages(admin_client: Client) -> None:
    for path in [
        *PAGES,
        "/capture/",
        "/review/",
        "/ops/jobs/failed/",
        "/admin/",
        "/admin/losses/loss/",
    ]:
        html = admin_client.get(path, follow=True).content.decode()
        for chunk in html.split("<script")[1:]:
            opening = chunk.partition(">")[0]
            assert "src=" in opening or "application/json" in opening, (path, opening)


def test_it_lets_map_tiles_come_from_the_configured_server() -> None:
    policy = directives(page_policy(tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png"))
    assert policy["img-src"] == ["'self'", "data:", "blob:", "https://*.tile.example.org"]
    assert "https://*.tile.example.org" not in policy["script-src"]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://x.org;script-src *", "https://a b/", "ftp://x.org/"]
)
def test_it_never_lets_a_tile_url_widen_the_policy(url: str) -> None:
    assert page_policy(tile_url=url) == page_policy()


def test_it_keeps_the_policy_a_response_sets_itself() -> None:
    own = "default-src 'none'; sandbox"
    page = HttpResponse("<p>x</p>", headers={"Content-Security-Policy": own})
    middleware = ContentSecurityPolicyMiddleware(lambda request: page)
    assert middleware(HttpRequest())["Content-Security-Policy"] == own


@pytest.mark.django_db
def test_it_gives_json_no_page_policy(anon_client: Client) -> None:
    response = anon_client.get("/api/v1/conflicts")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response  # not a document: nothing runs in it
    assert response["X-Content-Type-Options"] == "nosniff"


HTTPS_PROBE = (
    SETUP
    + """
import json
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
client = Client()
plain = client.get("/api/openapi.json")
secure = client.get("/api/openapi.json", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "plain": plain.headers.get("Strict-Transport-Security"),
    "secure": secure.headers.get("Strict-Transport-Security"),
}))
"""
)


def test_it_sends_hsts_and_secure_cookies_only_over_https(tmp_path: Path) -> None:
    on = run_django(tmp_path / "on", HTTPS_PROBE, ATTRITION_HTTPS="1")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout.splitlines()[-1]) == {
        "session_secure": True,
        "csrf_secure": True,
        "plain": None,
        "secure": "max-age=31536000",
    }
    off = run_django(tmp_path / "off", HTTPS_PROBE)
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout.splitlines()[-1]) == {
        "session_secure": False,
        "csrf_secure": False,
        "plain": None,
        "secure": None,  # without ATTRITION_HTTPS the forwarded header is not trusted
    }


def test_it_takes_the_hsts_duration_from_the_setting(tmp_path: Path) -> None:
    result = run_django(tmp_path, HTTPS_PROBE, ATTRITION_HTTPS="1", ATTRITION_HSTS_SECONDS="600")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["secure"] == "max-age=600"
