"""The API with tokens: bearer authentication, scopes, attribution, and rate limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from attrition.accounts.models import User
from attrition.accounts.tokens import token_create, token_revoke
from attrition.capture.models import CaptureJob

pytestmark = pytest.mark.django_db

CAPTURES = "/api/v1/captures"


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Start every test with no requests counted (the cache outlives a test's transaction)."""
    cache.clear()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_json(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_a_write_token_submits_as_its_user_without_csrf(contributor: User) -> None:
    _, key = token_create(user=contributor, name="scraper", scope="write")
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, CAPTURES, {"urls": ["https://t.me/a/1"]}, **bearer(key))
    assert response.status_code == 201, response.content
    job = CaptureJob.objects.get()
    assert job.submitted_by == contributor
    assert job.via == "api"
    assert response.json()["jobs"][0]["id"] == job.pk


def test_a_token_reads_what_its_user_may_read(contributor: User) -> None:
    _, write_key = token_create(user=contributor, name="scraper", scope="write")
    _, read_key = token_create(user=contributor, name="watcher", scope="read")
    client = Client()
    created = post_json(client, CAPTURES, {"urls": ["https://t.me/a/1"]}, **bearer(write_key))
    job_id = created.json()["jobs"][0]["id"]
    assert client.get(f"{CAPTURES}/{job_id}", headers=bearer(read_key)).status_code == 200

    other = User.objects.create_user(username="dora", role="contributor", is_staff=True)
    _, other_key = token_create(user=other, name="x", scope="read")
    hidden = client.get(f"{CAPTURES}/{job_id}", headers=bearer(other_key))
    assert hidden.status_code == 404


def test_a_read_token_may_not_write(contributor: User) -> None:
    _, key = token_create(user=contributor, name="watcher", scope="read")
    response = post_json(Client(), CAPTURES, {"urls": ["https://t.me/a/1"]}, **bearer(key))
    assert response.status_code == 403
    problem = error_of(response)
    assert problem["code"] == "forbidden"
    assert "write scope" in problem["message"]
    assert not CaptureJob.objects.exists()


@pytest.mark.parametrize("state", ["revoked", "unknown", "inactive"])
def test_it_refuses_a_bad_token_even_beside_a_session(contributor: User, state: str) -> None:
    token, key = token_create(user=contributor, name="scraper", scope="write")
    if state == "revoked":
        token_revoke(user=contributor, token_id=token.pk)
    elif state == "unknown":
        key = key[:-4] + "AAAA"
    else:
        User.objects.filter(pk=contributor.pk).update(is_active=False)
    client = Client()
    client.force_login(User.objects.create_user(username="dora", is_staff=True))
    response = post_json(client, CAPTURES, {"urls": ["https://t.me/a/1"]}, **bearer(key))
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert "token is not valid" in error_of(response)["message"]
    assert not CaptureJob.objects.exists()


def test_it_refuses_writes_without_any_authentication(anon_client: Client) -> None:
    response = post_json(anon_client, CAPTURES, {"urls": ["https://t.me/a/1"]})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    upload = anon_client.post(f"{CAPTURES}/upload", {})
    assert upload.status_code == 401


def test_it_tells_the_caller_who_they_are(contributor: User, contributor_client: Client) -> None:
    token, key = token_create(user=contributor, name="scraper", scope="write")
    anonymous = Client().get("/api/v1/me").json()
    assert anonymous == {
        "authenticated": False,
        "username": None,
        "role": None,
        "via": "anonymous",
        "token": None,
    }
    by_session = contributor_client.get("/api/v1/me").json()
    assert (by_session["username"], by_session["via"]) == ("charlie", "session")
    by_token = Client().get("/api/v1/me", headers=bearer(key)).json()
    assert (by_token["username"], by_token["role"], by_token["via"]) == (
        "charlie",
        "contributor",
        "token",
    )
    assert by_token["token"]["prefix"] == token.prefix
    assert by_token["token"]["scope"] == "write"


def test_it_limits_the_rate_of_anonymous_requests(settings: Any, contributor: User) -> None:
    settings.API_ANON_RATE = "3/min"
    reader = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        assert reader.get("/api/v1/me").status_code == 200
    limited = reader.get("/api/v1/me")
    assert limited.status_code == 429
    problem = error_of(limited)
    assert problem["code"] == "rate_limited"
    assert problem["details"]["retry_after_s"] >= 1
    assert int(limited["Retry-After"]) >= 1

    # Another address, and signed-in callers, are counted apart.
    assert Client(REMOTE_ADDR="203.0.113.6").get("/api/v1/me").status_code == 200
    _, key = token_create(user=contributor, name="scraper")
    signed_in = Client(REMOTE_ADDR="203.0.113.5")
    assert signed_in.get("/api/v1/me", headers=bearer(key)).status_code == 200


def test_it_limits_the_rate_of_each_user(settings: Any, contributor: User) -> None:
    settings.API_USER_RATE = "2/min"
    _, key = token_create(user=contributor, name="scraper")
    session = Client()
    session.force_login(contributor)
    assert Client().get("/api/v1/me", headers=bearer(key)).status_code == 200
    assert session.get("/api/v1/me").status_code == 200
    limited = Client().get("/api/v1/me", headers=bearer(key))
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
