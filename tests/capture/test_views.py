"""The capture pages: submitting URLs and files, and watching the jobs, for signed-in users only."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from attrition.accounts.models import User
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_submit
from attrition.capture.views import ids_filter, ids_text
from attrition.evidence.models import Capture, CustodyRecord, Evidence
from tests.capture.media import image_bytes

SUBMIT = "/capture/"
JOBS = "/capture/jobs/"
HTMX = {"HX-Request": "true"}


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def job_for(user: User, url: str = "https://example.org/post/1") -> CaptureJob:
    return capture_submit(url=url, by=user, via="web", nudge=False)


def finish(job: CaptureJob, state: str = CaptureJob.State.DONE) -> None:
    CaptureJob.objects.filter(pk=job.pk).update(state=state, finished_at=timezone.now())


@pytest.mark.parametrize("path", [SUBMIT, JOBS, "/capture/jobs/1/", "/capture/jobs/1/status"])
def test_it_sends_anonymous_readers_to_the_login(anon_client: Client, path: str) -> None:
    response = anon_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=")


def test_it_tells_a_lapsed_htmx_poll_to_reload_its_page(anon_client: Client) -> None:
    response = anon_client.get("/capture/jobs/1/status", headers=HTMX)
    assert response.status_code == 401
    assert response["HX-Refresh"] == "true"


def test_it_refuses_an_anonymous_submission(anon_client: Client) -> None:
    response = anon_client.post(SUBMIT, {"urls": "https://example.org/a"})
    assert response.status_code == 302
    assert not CaptureJob.objects.exists()


def test_it_shows_the_form(contributor_client: Client) -> None:
    html = contributor_client.get(SUBMIT).content.decode()
    assert 'name="urls"' in html
    assert 'type="file" id="id_files" name="files" multiple' in html
    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert "capture/capture.js" in html


def test_it_queues_good_urls_and_shows_the_bad_one(
    contributor: User, contributor_client: Client
) -> None:
    urls = "https://example.org/a\nftp://x\nhttps://example.org/b\n"

    response = contributor_client.post(SUBMIT, {"urls": urls})

    jobs = list(CaptureJob.objects.order_by("pk"))
    assert [job.url for job in jobs] == ["https://example.org/a", "https://example.org/b"]
    assert all(job.submitted_by == contributor and job.via == "web" for job in jobs)
    assert response.status_code == 302
    assert response["Location"] == f"{JOBS}?ids={ids_text([job.pk for job in jobs])}"
    page = contributor_client.get(response["Location"])
    html = page.content.decode()
    assert html.count('class="capture-job ') == 2
    assert escape("'ftp://x' is not an http(s) URL") in html


def test_it_keeps_the_text_when_every_line_is_refused(contributor_client: Client) -> None:
    response = contributor_client.post(SUBMIT, {"urls": "ftp://x\nnot a url"})
    assert response.status_code == 400
    html = response.content.decode()
    assert escape("'ftp://x' is not an http(s) URL") in html
    assert "ftp://x\nnot a url</textarea>" in html
    assert not CaptureJob.objects.exists()


def test_it_asks_for_something_when_nothing_is_sent(contributor_client: Client) -> None:
    response = contributor_client.post(SUBMIT, {"urls": "  \n"})
    assert response.status_code == 400
    assert "Paste at least one URL or choose a file." in response.content.decode()


def test_it_queues_an_upload(
    contributor: User, contributor_client: Client, capture_storage: Path
) -> None:
    png = image_bytes("PNG")

    response = contributor_client.post(
        SUBMIT, {"urls": "", "files": [SimpleUploadedFile("tank.png", png, "image/png")]}
    )

    job = CaptureJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{JOBS}?ids={job.pk}"
    assert job.upload_name == "tank.png"
    assert job.upload_sha256 == hashlib.sha256(png).hexdigest()
    assert job.url == ""
    assert job.submitted_by == contributor
    assert [path.read_bytes() for path in stored_files(capture_storage)] == [png]
    assert "upload: tank.png" in contributor_client.get(response["Location"]).content.decode()


def test_it_queues_urls_and_files_sent_together(
    contributor_client: Client, capture_storage: Path
) -> None:
    files = [
        SimpleUploadedFile("a.png", image_bytes("PNG", color="red")),
        SimpleUploadedFile("b.png", image_bytes("PNG", color="blue")),
    ]
    response = contributor_client.post(SUBMIT, {"urls": "https://example.org/a", "files": files})
    assert response.status_code == 302
    assert CaptureJob.objects.count() == 3


def test_it_refuses_an_upload_over_the_limit_and_stores_nothing(
    contributor_client: Client, capture_storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_UPLOAD_MAX_BYTES", "100")
    big = SimpleUploadedFile("big.png", image_bytes("PNG", size=(200, 200), color="white") * 4)

    response = contributor_client.post(SUBMIT, {"urls": "", "files": [big]})

    assert response.status_code == 400
    html = response.content.decode()
    assert "big.png is larger than the 100-byte limit" in html
    assert "nothing was stored" in html
    assert not CaptureJob.objects.exists()
    assert not Evidence.objects.exists()
    assert stored_files(capture_storage) == []


def test_it_streams_big_uploads_past_djangos_memory_limits(
    contributor_client: Client, capture_storage: Path, settings: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = bytes(range(256)) * 400  # 100 KiB: over both limits, so it goes to a temporary file

    response = contributor_client.post(
        SUBMIT, {"urls": "", "files": [SimpleUploadedFile("clip.bin", body)]}
    )

    assert response.status_code == 302
    assert CaptureJob.objects.get().upload_sha256 == hashlib.sha256(body).hexdigest()
    assert [path.read_bytes() for path in stored_files(capture_storage)] == [body]


def test_it_enforces_csrf(contributor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)

    refused = client.post(SUBMIT, {"urls": "https://example.org/a"})
    assert refused.status_code == 403
    assert not CaptureJob.objects.exists()

    client.get(SUBMIT)
    token = client.cookies["csrftoken"].value
    accepted = client.post(SUBMIT, {"urls": "https://example.org/a", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert CaptureJob.objects.count() == 1


def test_it_polls_while_a_job_is_waiting_and_stops_once_it_has_finished(
    contributor: User, contributor_client: Client
) -> None:
    job = job_for(contributor)
    status = f"/capture/jobs/{job.pk}/status"

    waiting = contributor_client.get(status, headers=HTMX).content.decode()
    assert f'hx-get="{status}"' in waiting
    assert 'hx-trigger="every 2s"' in waiting
    page = contributor_client.get(f"/capture/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page

    CaptureJob.objects.filter(pk=job.pk).update(
        state=CaptureJob.State.RUNNING, lease_until=timezone.now()
    )
    assert 'hx-trigger="every 2s"' in contributor_client.get(status, headers=HTMX).content.decode()

    finish(job)
    done = contributor_client.get(status, headers=HTMX).content.decode()
    assert "hx-trigger" not in done
    assert "hx-get" not in done
    assert '<span class="job-state">done</span>' in done


def test_it_polls_the_list_until_every_job_shown_has_finished(
    contributor: User, contributor_client: Client
) -> None:
    first = job_for(contributor, "https://example.org/1")
    second = job_for(contributor, "https://example.org/2")
    url = f"{JOBS}?ids={first.pk},{second.pk}"

    page = contributor_client.get(url)
    assert 'hx-trigger="every 2s"' in page.content.decode()
    assert "HX-Request" in page["Vary"]

    finish(first)
    partial = contributor_client.get(url, headers=HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in partial
    assert "<html" not in partial

    finish(second, CaptureJob.State.FAILED)
    assert "hx-trigger" not in contributor_client.get(url, headers=HTMX).content.decode()


def test_it_shows_steps_errors_and_captures(contributor: User, contributor_client: Client) -> None:
    job = job_for(contributor)
    sha = "ab" * 32
    capture = Capture.objects.create(
        sha256=sha,
        kind="image",
        storage_key="k",
        mime="image/png",
        size_bytes=2048,
        width=64,
        height=48,
    )
    CustodyRecord.objects.create(
        evidence=job.evidence, capture=capture, method="http", collected_at=timezone.now(), job=job
    )
    job.steps = [
        {
            "n": 3,
            "step": "fetch",
            "outcome": "ok",
            "detail": "200 image/png",
            "ms": 41,
            "at": "2025-01-02T03:04:05+00:00",
        },
        {"n": 6, "step": "video", "outcome": "skipped", "detail": "not a video", "ms": 0},
        {
            "n": 7,
            "step": "pdq",
            "outcome": "failed",
            "ms": 5,
            "error": {"code": "bad_media", "message": "cannot decode", "details": {}},
        },
    ]
    job.state, job.attempts, job.finished_at = CaptureJob.State.DONE, 1, timezone.now()
    job.save()

    html = contributor_client.get(f"/capture/jobs/{job.pk}/").content.decode()

    shown = ["fetch", "200 image/png", "41 ms", "03:04:05", "not a video", "bad_media"]
    shown += ["cannot decode", "1 attempt", "image/png", "2.0\xa0KB", "64\u00d748", sha[:12]]
    for text in shown:
        assert text in html
    assert f"/admin/evidence/custodyrecord/{CustodyRecord.objects.get().pk}/change/" in html


def test_it_hides_the_custody_link_from_non_staff(contributor: User) -> None:
    contributor.is_staff = False
    contributor.save()
    client = Client()
    client.force_login(contributor)
    job = job_for(contributor)
    html = client.get(f"/capture/jobs/{job.pk}/").content.decode()
    assert "/admin/" not in html.split("<main>", 1)[1]


def test_it_shows_the_error_of_a_failed_job(contributor: User, contributor_client: Client) -> None:
    job = job_for(contributor)
    CaptureJob.objects.filter(pk=job.pk).update(
        state=CaptureJob.State.FAILED,
        error_code="source_gone",
        error_message="the post was deleted",
        finished_at=timezone.now(),
    )
    html = contributor_client.get(JOBS).content.decode()
    assert "source_gone" in html
    assert "the post was deleted" in html


def test_it_hides_another_users_job(reviewer: User, contributor_client: Client) -> None:
    job = job_for(reviewer)
    assert contributor_client.get(f"/capture/jobs/{job.pk}/").status_code == 404
    assert contributor_client.get(f"/capture/jobs/{job.pk}/status").status_code == 404
    assert "example.org/post/1" not in contributor_client.get(JOBS).content.decode()
    assert "example.org/post/1" not in contributor_client.get(f"{JOBS}?all=1").content.decode()


def test_it_lets_reviewers_and_admins_see_every_job(
    contributor: User, reviewer_client: Client, admin_client: Client
) -> None:
    job = job_for(contributor)
    for client in (reviewer_client, admin_client):
        assert client.get(f"/capture/jobs/{job.pk}/").status_code == 200
        assert "example.org/post/1" not in client.get(JOBS).content.decode()
        assert "example.org/post/1" in client.get(f"{JOBS}?all=1").content.decode()


def test_it_says_when_a_url_was_already_queued_by_someone_else(
    reviewer: User, contributor_client: Client
) -> None:
    job_for(reviewer, "https://example.org/shared")
    response = contributor_client.post(SUBMIT, {"urls": "https://example.org/shared"}, follow=True)
    assert "already being captured for someone else" in response.content.decode()


def test_it_escapes_hostile_urls_and_messages(
    contributor: User, contributor_client: Client
) -> None:
    hostile = "https://example.org/<script>alert(1)</script>"
    refused = "javascript:<script>alert(2)</script>"

    response = contributor_client.post(SUBMIT, {"urls": f"{hostile}\n{refused}"}, follow=True)

    html = response.content.decode()
    assert CaptureJob.objects.get().url == hostile
    assert "<script>alert" not in html
    assert escape(hostile) in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_it_folds_ids_into_ranges_and_reads_them_back(contributor: User) -> None:
    a, b, c, d = (job_for(contributor, f"https://example.org/{n}").pk for n in range(4))
    assert ids_text([d, b, a, b, d]) == (f"{a}-{b},{d}" if b == a + 1 else f"{a},{b},{d}")
    unreadable = "x,7-2,99999999999999999999999,-1,"
    found = CaptureJob.objects.filter(ids_filter(f"{ids_text([a, b, d])},{unreadable}"))
    assert sorted(job.pk for job in found) == [a, b, d]
    assert not CaptureJob.objects.filter(ids_filter(unreadable)).exists()
    assert c not in {job.pk for job in found}
