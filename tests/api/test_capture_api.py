"""The capture API: submit URLs and files, follow jobs, one error shape, CSRF and roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from attrition.accounts.models import User
from attrition.capture.models import CaptureJob
from tests.conftest import client_for, user_make
from tests.loopback import PNG

pytestmark = pytest.mark.django_db


def post_json(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_it_queues_a_job_per_url_and_lists_refused_ones(contributor_client: Client) -> None:
    response = post_json(
        contributor_client,
        "/api/v1/captures",
        {"urls": ["https://t.me/frontline/1", "ftp://example.org/x", "https://x.com/a/status/2"]},
    )
    assert response.status_code == 201
    body = response.json()
    assert [job["url"] for job in body["jobs"]] == [
        "https://t.me/frontline/1",
        "https://x.com/a/status/2",
    ]
    assert all(job["state"] == "queued" for job in body["jobs"])
    assert body["refused"] == [
        {"line": "ftp://example.org/x", "code": "invalid", "message": body["refused"][0]["message"]}
    ]
    assert "not an http(s) URL" in body["refused"][0]["message"]
    assert CaptureJob.objects.count() == 2


def test_it_archives_uploaded_files(contributor_client: Client, capture_storage: Path) -> None:
    upload = SimpleUploadedFile("tank.png", PNG, content_type="image/png")
    response = contributor_client.post("/api/v1/captures/upload", {"files": [upload]})
    assert response.status_code == 201, response.content
    [job] = response.json()["jobs"]
    assert job["upload_name"] == "tank.png"
    assert job["state"] == "queued"


def test_it_shows_a_job_to_its_author_and_reviewers_only(
    contributor_client: Client, reviewer_client: Client
) -> None:
    created = post_json(contributor_client, "/api/v1/captures", {"urls": ["https://t.me/a/1"]})
    job_id = created.json()["jobs"][0]["id"]

    mine = contributor_client.get(f"/api/v1/captures/{job_id}")
    assert mine.status_code == 200
    assert mine.json()["steps"] == []
    assert reviewer_client.get(f"/api/v1/captures/{job_id}").status_code == 200

    other = client_for(user_make("dora", role="contributor"))
    hidden = other.get(f"/api/v1/captures/{job_id}")
    assert hidden.status_code == 404
    assert error_of(hidden)["code"] == "not_found"


def test_it_answers_every_error_in_one_shape(
    anon_client: Client, contributor_client: Client
) -> None:
    anonymous = post_json(anon_client, "/api/v1/captures", {"urls": ["https://t.me/a/1"]})
    assert anonymous.status_code == 401
    assert error_of(anonymous)["code"] == "unauthenticated"

    malformed = post_json(contributor_client, "/api/v1/captures", {"urls": []})
    assert malformed.status_code == 422
    problem = error_of(malformed)
    assert problem["code"] == "invalid"
    assert problem["details"]["problems"][0]["at"].endswith("urls")

    too_many = post_json(
        contributor_client,
        "/api/v1/captures",
        {"urls": [f"https://t.me/a/{i}" for i in range(1001)]},
    )
    assert too_many.status_code == 422
    assert not CaptureJob.objects.exists()


def test_it_asks_a_caller_without_token_or_session_to_authenticate() -> None:
    """An API client that forgot its token learns that (401), not of a CSRF token (403)."""
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, "/api/v1/captures", {"urls": ["https://t.me/a/1"]})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    # A session cookie that signs nobody in is still a browser's: its CSRF token is checked.
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    response = post_json(client, "/api/v1/captures", {"urls": ["https://t.me/a/1"]})
    assert response.status_code == 403
    assert not CaptureJob.objects.exists()


def test_it_refuses_a_session_write_without_its_csrf_token(contributor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    response = post_json(client, "/api/v1/captures", {"urls": ["https://t.me/a/1"]})
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert not CaptureJob.objects.exists()


def test_it_publishes_its_openapi_schema(anon_client: Client) -> None:
    response = anon_client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/captures" in schema["paths"]
    assert "/api/v1/captures/{job_id}" in schema["paths"]
