"""The admins' page of failed capture jobs, and its retry button."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_upload
from attrition.evidence.services import evidence_create
from tests.capture.media import image_bytes

PAGE = "/ops/jobs/failed/"


def failed_url_job(url: str = "https://example.org/post/1") -> CaptureJob:
    return CaptureJob.objects.create(
        evidence=evidence_create(url=url),
        url=url,
        state=CaptureJob.State.FAILED,
        attempts=4,
        next_attempt_at=timezone.now(),
        finished_at=timezone.now(),
        error_code="fetch_failed",
        error_message="the server answered 503 four times",
    )


def test_it_lists_failed_jobs_to_admins(admin_client: Client, db: None) -> None:
    job = failed_url_job()
    CaptureJob.objects.create(
        evidence=job.evidence, url="https://example.org/post/2", next_attempt_at=timezone.now()
    )

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    text = response.content.decode()
    assert f"#{job.pk}" in text
    assert "https://example.org/post/1" in text
    assert "the server answered 503 four times" in text
    assert "post/2" not in text, "only failed jobs"
    assert text.count('type="submit">Retry') == 1


def test_it_sends_anonymous_readers_to_log_in(anon_client: Client) -> None:
    response = anon_client.get(PAGE)
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("who", ["reviewer_client", "contributor_client"])
def test_it_refuses_everyone_but_admins(request: pytest.FixtureRequest, who: str) -> None:
    client: Client = request.getfixturevalue(who)
    job = failed_url_job()

    assert client.get(PAGE).status_code == 403
    assert client.post(f"/ops/jobs/{job.pk}/retry").status_code == 403
    assert CaptureJob.objects.count() == 1


def test_it_retries_a_failed_url_job_as_a_new_job(admin_client: Client, admin_user: object) -> None:
    job = failed_url_job()

    response = admin_client.post(f"/ops/jobs/{job.pk}/retry", follow=True)

    assert response.status_code == 200
    retry = CaptureJob.objects.exclude(pk=job.pk).get()
    assert (retry.url, retry.evidence_id, retry.state) == (job.url, job.evidence_id, "queued")
    assert (retry.via, retry.submitted_by) == ("retry", admin_user)
    assert f"capture job #{job.pk} retried as job #{retry.pk}" in response.content.decode()
    job.refresh_from_db()
    assert job.state == "failed", "the failed job stays as the record"


def test_it_retries_a_failed_upload_from_the_stored_original(
    admin_client: Client, capture_storage: Path
) -> None:
    png = image_bytes("PNG", (32, 24), "blue")
    job = capture_upload(fh=io.BytesIO(png), name="blue.png", nudge=False)
    CaptureJob.objects.filter(pk=job.pk).update(
        state=CaptureJob.State.FAILED, error_code="bad_media"
    )

    admin_client.post(f"/ops/jobs/{job.pk}/retry")

    retry = CaptureJob.objects.exclude(pk=job.pk).get()
    assert (retry.upload_sha256, retry.upload_name) == (job.upload_sha256, "blue.png")
    assert retry.evidence_id == job.evidence_id


def test_it_says_why_a_job_that_has_not_failed_is_not_retried(admin_client: Client) -> None:
    job = failed_url_job()
    CaptureJob.objects.filter(pk=job.pk).update(state=CaptureJob.State.DONE)

    response = admin_client.post(f"/ops/jobs/{job.pk}/retry", follow=True)

    assert "is done, not failed: nothing to retry" in response.content.decode()
    assert CaptureJob.objects.count() == 1


def test_it_retries_only_by_post(admin_client: Client) -> None:
    job = failed_url_job()
    assert admin_client.get(f"/ops/jobs/{job.pk}/retry").status_code == 405
