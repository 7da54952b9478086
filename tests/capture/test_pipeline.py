"""The capture job end to end, against a real HTTP server on loopback: every step recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import socket
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from attrition.accounts.models import User
from attrition.capture import pipeline
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_submit, capture_upload, jobs_recover
from attrition.evidence.models import Capture, CustodyEvent, CustodyRecord, Evidence
from tests.capture import clips
from tests.capture.media import camera_exif, png_claiming
from tests.loopback import PNG, Loopback, send

pytestmark = pytest.mark.django_db


def photo_jpeg() -> bytes:
    """Return a photo-like JPEG with a phone's EXIF (GPS, orientation 6)."""
    out = io.BytesIO()
    clips.photo(3, (480, 360)).save(out, "JPEG", quality=90, exif=camera_exif(6))
    return out.getvalue()


@pytest.fixture
def served(media_server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Loopback:
    """Add a photo, a clip and an article page showing both to the loopback server."""
    monkeypatch.setenv("ATTRITION_FETCH_MAX_BYTES", "5000000")
    photo = photo_jpeg()
    video = clips.clip(tmp_path / "clip.mp4", seconds=3, faststart=True).read_bytes()
    article = (
        b"<!doctype html><html><head><meta charset='utf-8'>"
        b"<title>Column hit near Kunduz</title>"
        b"<meta property='og:image' content='/photo-exif.jpg'>"
        b"<meta property='article:published_time' content='2021-07-04T09:30:00Z'>"
        b"</head><body><h1>Column hit</h1>"
        b"<video controls src='/clip.mp4'></video>"
        b"<img src='/photo.png' width='400' height='300'></body></html>"
    )
    media_server.routes.update(
        {
            "/photo-exif.jpg": lambda h: send(h, photo, content_type="image/jpeg"),
            "/clip.mp4": lambda h: send(h, video, content_type="video/mp4"),
            "/article.html": lambda h: send(h, article, content_type="text/html; charset=utf-8"),
            "/page-as-photo.jpg": lambda h: send(h, article, content_type="image/jpeg"),
        }
    )
    return media_server


def run(url: str, by: User | None = None) -> CaptureJob:
    """Submit a URL, run its job here, and return the job as it ended."""
    job = capture_submit(url=url, by=by, via="test", nudge=False)
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    return job


def outcomes(job: CaptureJob) -> list[tuple[int, str, str]]:
    return [(s["n"], s["step"], s["outcome"]) for s in job.steps]


def test_it_archives_a_photo_with_hashes_exif_derivatives_and_custody(
    served: Loopback, capture_storage: Path, contributor: User
) -> None:
    job = run(served.url("/photo-exif.jpg"), contributor)
    assert job.state == CaptureJob.State.DONE, job.error_message
    assert outcomes(job) == [
        (1, "canonicalise", "ok"),
        (2, "guard", "ok"),
        (3, "http_fetch", "ok"),
        (4, "store", "ok"),
        (5, "enrich", "ok"),
        (7, "pdq", "ok"),
        (7, "features", "ok"),
        (8, "custody", "ok"),
        (9, "match", "ok"),
    ]
    capture = Capture.objects.get()
    body = photo_jpeg()
    assert capture.sha256 == hashlib.sha256(body).hexdigest()
    assert (capture_storage / capture.storage_key).read_bytes() == body  # never modified
    assert capture.kind == "image"
    assert capture.mime == "image/jpeg"
    assert (capture.width, capture.height) == (360, 480)  # as displayed: orientation 6
    assert capture.exif is not None
    assert capture.exif["Make"] == "Canon"
    assert "GPSInfo" in capture.exif
    assert len(capture.pdq) == 64
    assert capture.pdq_quality is not None
    assert capture.pdq_quality >= 50
    for name, derivative in capture.derivatives.items():
        if name == "features":
            continue
        with Image.open(capture_storage / derivative["key"]) as im:
            assert not im.getexif()
    record = CustodyRecord.objects.get(capture=capture)
    assert record.job == job
    assert record.collected_by == contributor
    assert record.http_status == 200
    assert set(record.tool_versions) >= {"attrition", "python"}
    assert CustodyEvent.objects.get(capture=capture).action == "captured"


def test_it_archives_a_video_with_its_sampled_frames(
    served: Loopback, capture_storage: Path
) -> None:
    job = run(served.url("/clip.mp4"))
    assert job.state == CaptureJob.State.DONE, job.error_message
    assert (6, "video", "ok") in outcomes(job)
    capture = Capture.objects.get()
    assert capture.kind == "video"
    assert capture.duration_s == pytest.approx(3.0, abs=0.2)
    assert (capture.width, capture.height) == (320, 240)
    frames = list(capture.frames.all())
    assert [f.t_ms for f in frames][:3] == [0, 1000, 2000]
    assert all((capture_storage / f.storage_key).exists() for f in frames)
    assert "thumb" in capture.derivatives


def test_it_keeps_a_page_with_its_video_and_images(served: Loopback, capture_storage: Path) -> None:
    job = run(served.url("/article.html"))
    assert job.state == CaptureJob.State.DONE, job.error_message
    kinds = sorted(Capture.objects.values_list("kind", flat=True))
    assert kinds == ["image", "image", "page", "video"]
    methods = set(CustodyRecord.objects.filter(job=job).values_list("method", flat=True))
    assert methods == {"http", "ytdlp"}
    evidence = Evidence.objects.get()
    assert evidence.title == "Column hit near Kunduz"
    assert evidence.posted_at == dt.datetime(2021, 7, 4, 9, 30, tzinfo=dt.UTC)
    assert evidence.versions.count() == 2  # created, then filled from the page


def test_it_records_html_served_as_an_image_as_bad_media_and_keeps_the_bytes(
    served: Loopback, capture_storage: Path
) -> None:
    job = run(served.url("/page-as-photo.jpg"))
    assert job.state == CaptureJob.State.FAILED
    assert job.error_code == "bad_media"
    assert "text/html" in job.error_message
    assert job.attempts == 1  # retrying cannot help
    capture = Capture.objects.get()
    assert capture.kind == "other"
    assert (capture_storage / capture.storage_key).exists()
    assert CustodyRecord.objects.filter(job=job).count() == 1


@pytest.mark.parametrize(
    ("path", "code"),
    [("/missing", "source_gone"), ("/gone", "source_gone"), ("/to-private", "fetch_refused")],
)
def test_it_ends_a_job_that_cannot_succeed_at_once(
    served: Loopback, capture_storage: Path, path: str, code: str
) -> None:
    job = run(served.url(path))
    assert job.state == CaptureJob.State.FAILED
    assert job.error_code == code
    assert job.attempts == 1
    assert outcomes(job)[-1][2] == "failed"
    assert not Capture.objects.exists()


def test_it_retries_a_failing_source_with_backoff_then_gives_up(
    served: Loopback, capture_storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_CAPTURE_MAX_ATTEMPTS", "3")
    job = run(served.url("/error"))
    assert job.state == CaptureJob.State.QUEUED
    assert job.error_code == "fetch_failed"
    first_wait = job.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=20) < first_wait <= dt.timedelta(seconds=30)
    assert pipeline.job_run(job.pk) == "not due, already running or finished"

    for _ in range(2):
        CaptureJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        pipeline.job_run(job.pk)
    job.refresh_from_db()
    assert job.state == CaptureJob.State.FAILED
    assert job.attempts == 3
    assert [s["outcome"] for s in job.steps if s["step"] == "http_fetch"] == ["failed"] * 3


def test_it_reuses_stored_bytes_and_adds_custody_when_captured_again(
    served: Loopback, capture_storage: Path
) -> None:
    first = run(served.url("/photo-exif.jpg"))
    second = run(served.url("/photo-exif.jpg"))
    assert first.pk != second.pk
    assert second.state == CaptureJob.State.DONE
    assert Capture.objects.count() == 1
    assert CustodyRecord.objects.count() == 2
    assert next(s["detail"] for s in second.steps if s["n"] == 5).startswith("already archived")
    stored = [p for p in (capture_storage / "captures").rglob("*") if p.is_file()]
    assert len(stored) == 1


def test_it_archives_an_upload_as_evidence_of_its_own(
    db: None, capture_storage: Path, contributor: User
) -> None:
    job = capture_upload(fh=io.BytesIO(PNG), name="tank.png", by=contributor, nudge=False)
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    assert job.state == CaptureJob.State.DONE, job.error_message
    assert job.evidence.platform == "upload"
    record = CustodyRecord.objects.get(job=job)
    assert record.method == "upload"
    assert record.capture.sha256 == hashlib.sha256(PNG).hexdigest()
    assert record.http_headers["upload_name"] == "tank.png"


def test_it_runs_a_job_once_however_often_it_is_nudged(
    served: Loopback, capture_storage: Path
) -> None:
    job = run(served.url("/photo-exif.jpg"))
    assert pipeline.job_run(job.pk) == "not due, already running or finished"
    assert CustodyRecord.objects.count() == 1


def test_it_takes_up_a_job_whose_worker_died(served: Loopback, capture_storage: Path) -> None:
    job = capture_submit(url=served.url("/photo-exif.jpg"), nudge=False)
    # A worker on this host claimed it, then died: its pid no longer exists.
    CaptureJob.objects.filter(pk=job.pk).update(
        state="running",
        lease_until=timezone.now() + dt.timedelta(hours=1),
        worker=f"{socket.gethostname()}:999999999",
        attempts=1,
    )
    assert job.pk in jobs_recover()
    assert pipeline.job_run(job.pk) == "done"


def photo_in(fmt: str) -> bytes:
    """Return a photo-like image encoded in a Pillow format (HEIF through pillow-heif)."""
    out = io.BytesIO()
    clips.photo(4, (320, 240)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("HEIF", "image/heic"),
        ("AVIF", "image/avif"),
    ],
)
def test_it_archives_each_image_format_with_a_pdq_hash(
    media_server: Loopback, capture_storage: Path, fmt: str, mime: str
) -> None:
    body = photo_in(fmt)
    # The source says nothing useful: the type comes from the bytes.
    media_server.routes["/image"] = lambda h: send(h, body)
    job = run(media_server.url("/image"))
    assert job.state == CaptureJob.State.DONE, job.error_message
    capture = Capture.objects.get()
    assert capture.mime == mime
    assert (capture.width, capture.height) == (320, 240)
    assert len(capture.pdq) == 64
    assert set(capture.derivatives) >= {"thumb"}


def truncated_mp4(tmp_path: Path) -> bytes:
    whole = clips.clip(tmp_path / "whole.mp4", seconds=2).read_bytes()
    return whole[: len(whole) // 3]


@pytest.mark.parametrize(
    ("name", "make", "content_type", "says"),
    [
        ("zero bytes", lambda tmp: b"", "image/jpeg", "empty"),
        ("truncated JPEG", lambda tmp: photo_in("JPEG")[:3000], "image/jpeg", "cannot be decoded"),
        ("bomb", lambda tmp: png_claiming(30000, 30000), "image/png", "decompression bomb"),
        ("corrupt MP4", truncated_mp4, "video/mp4", ""),
        (
            "HTML as image",
            lambda tmp: b"<!doctype html><html><body>hi</body></html>",
            "image/jpeg",
            "text/html",
        ),
    ],
)
def test_it_ends_bad_media_in_a_clear_error_and_keeps_going(
    media_server: Loopback,
    capture_storage: Path,
    tmp_path: Path,
    name: str,
    make: Any,
    content_type: str,
    says: str,
) -> None:
    body = make(tmp_path)
    media_server.routes["/bad"] = lambda h: send(h, body, content_type=content_type)
    bad = run(media_server.url("/bad"))
    # The next capture on the same worker is unaffected.
    good = run(media_server.url("/photo.png"))
    assert good.state == CaptureJob.State.DONE, good.error_message
    if name == "corrupt MP4" and bad.state == CaptureJob.State.DONE:
        # Frames before the cut were kept: the damage is recorded on the capture.
        capture = Capture.objects.get(custody__job=bad)
        assert capture.kind == "video"
        assert any("damage" in note or "truncated" in note for note in capture.notes)
        return
    assert bad.state == CaptureJob.State.FAILED
    assert bad.error_code == "bad_media"
    assert says in bad.error_message
    assert str(tmp_path) not in bad.error_message
    if body:  # what was received is kept as it came
        kept = Capture.objects.get(custody__job=bad)
        assert (capture_storage / kept.storage_key).read_bytes() == body


def test_it_links_a_re_encoded_copy_of_an_archived_photo(
    served: Loopback, capture_storage: Path
) -> None:
    from attrition.dedup.models import MediaMatch

    out = io.BytesIO()
    with Image.open(io.BytesIO(photo_jpeg())) as original:
        original.convert("RGB").resize((240, 180)).save(out, "JPEG", quality=40)
    copy = out.getvalue()
    served.routes["/copy-small.jpg"] = lambda h: send(h, copy, content_type="image/jpeg")

    run(served.url("/photo-exif.jpg"))
    job = run(served.url("/copy-small.jpg"))

    assert job.state == CaptureJob.State.DONE
    match = MediaMatch.objects.get()
    assert match.kind == "pdq"
    assert match.band == "auto"
    assert match.distance is not None
    assert match.distance <= 31
    assert [s["detail"] for s in job.steps if s["step"] == "match"] == [
        "1 match(es), 1 linked, 0 for review"
    ]


def test_it_finds_a_clip_inside_a_longer_video(
    served: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    from attrition.dedup.models import MediaMatch

    long = clips.clip(tmp_path / "long.mp4", seconds=12, faststart=True).read_bytes()
    cut = clips.clip(tmp_path / "cut.mp4", seconds=4, first=50, faststart=True).read_bytes()
    served.routes["/long.mp4"] = lambda h: send(h, long, content_type="video/mp4")
    served.routes["/cut.mp4"] = lambda h: send(h, cut, content_type="video/mp4")

    run(served.url("/long.mp4"))
    run(served.url("/cut.mp4"))

    match = MediaMatch.objects.get(kind="frames")
    assert match.band == "auto"
    [ranges] = match.details["ranges"]
    # The cut starts 50 frames (5 s at 10 fps) into the long video.
    assert abs(ranges["a_start_ms"] - 5000) <= 1500
    assert ranges["b_start_ms"] <= 1000


def test_it_records_an_unexpected_error_at_once_and_tries_again_later(
    served: Loopback, capture_storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attrition.capture.steps import enrich

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(enrich, "run", broken)
    monkeypatch.setenv("ATTRITION_CAPTURE_MAX_ATTEMPTS", "2")
    job = run(served.url("/photo-exif.jpg"))

    assert job.state == CaptureJob.State.QUEUED  # not left running until its lease ends
    assert job.error_code == "internal_error"
    assert "RuntimeError: disk on fire" in job.error_message
    failed = [s for s in job.steps if s["outcome"] == "failed"]
    assert [(s["step"], s["error"]["code"]) for s in failed] == [("enrich", "internal_error")]

    CaptureJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    assert job.state == CaptureJob.State.FAILED
    assert job.attempts == 2
