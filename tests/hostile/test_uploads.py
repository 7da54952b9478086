"""Hostile uploads: bombs, huge dimensions, truncated and polyglot files, archives, and HTML.

Each goes the whole way a contributor's upload goes (API -> stored original -> capture job):
it ends archived as what its bytes are, or failed with a clear `bad_media` error, never an
unexpected one. A refused file keeps its original (evidence is never dropped) but nothing
derived from it: no partial capture. Originals are only ever sent as downloads.
"""

from __future__ import annotations

import gzip
import io
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from attrition.accounts.models import User
from attrition.accounts.tokens import token_create
from attrition.capture import pipeline
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_upload
from attrition.evidence.models import Capture
from attrition.importers import registry
from attrition.importers.registry import ImportRefused, source_read
from tests.capture import clips
from tests.capture.media import png_claiming

pytestmark = pytest.mark.django_db


def jpeg(size: tuple[int, int] = (64, 48), comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 90, 40)).save(out, "JPEG", comment=comment)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """Return a small real JPEG whose frame header claims `width` x `height` pixels."""
    data = bytearray(jpeg((8, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def zip_bomb() -> bytes:
    """Return a ~50 kB zip that unpacks to 50 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("zeros.bin", b"\0" * 50_000_000)
    return out.getvalue()


def truncated_mp4(tmp_path: Path) -> bytes:
    whole = clips.clip(tmp_path / "whole.mp4", seconds=2).read_bytes()
    return whole[: len(whole) // 4]


SVG_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>window.pwned=1</script><rect width='10' height='10'/></svg>"
)
HTML_PAGE = b"<!doctype html><html><body><script>window.pwned=1</script>hi</body></html>"


def upload_run(data: bytes, name: str, by: User) -> CaptureJob:
    """Upload bytes as `by`, run the capture job here, and return the job as it ended."""
    job = capture_upload(fh=io.BytesIO(data), name=name, by=by, nudge=False)
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    return job


def stored_keys(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def assert_refused_whole(job: CaptureJob, root: Path, *words: str) -> None:
    """Assert the job failed as bad media, keeping the original and nothing derived from it."""
    assert job.state == CaptureJob.State.FAILED, job.steps
    assert job.error_code == "bad_media", job.error_message
    for word in words:
        assert word in job.error_message
    capture = Capture.objects.get(custody__job=job)
    assert capture.kind in {Capture.Kind.OTHER, Capture.Kind.VIDEO}  # what the bytes said
    assert (capture.derivatives, capture.pdq, capture.frames.count()) == ({}, "", 0)
    assert stored_keys(root) == {capture.storage_key}


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("png-50k.png", lambda tmp: png_claiming(50_000, 50_000), ["decompression bomb"]),
        ("jpeg-50k.jpg", lambda tmp: jpeg_claiming(50_000, 50_000), ["decompression bomb"]),
        ("wide.png", lambda tmp: png_claiming(2**31 - 1, 1), []),
        ("half.png", lambda tmp: png_claiming(64, 48)[:60], ["cannot be decoded"]),
        ("half.jpg", lambda tmp: jpeg((640, 480))[:700], ["cannot be decoded"]),
        ("quarter.mp4", truncated_mp4, []),
    ],
)
def test_it_refuses_bombs_and_broken_media_and_keeps_nothing_partial(
    contributor: User, capture_storage: Path, tmp_path: Path, name: str, make: Any, words: list[str]
) -> None:
    started = time.monotonic()
    job = upload_run(make(tmp_path), name, contributor)
    assert time.monotonic() - started < 20  # refused from the header, never decoded whole
    if name == "quarter.mp4" and job.state == CaptureJob.State.DONE:
        capture = Capture.objects.get(custody__job=job)  # frames before the cut are kept
        assert any("truncat" in note or "damage" in note for note in capture.notes)
        return
    assert_refused_whole(job, capture_storage, *words)
    assert str(tmp_path) not in job.error_message


@pytest.mark.parametrize(
    ("name", "data", "mime", "kind"),
    [
        ("polyglot.jpg", jpeg() + zip_bomb(), "image/jpeg", "image"),
        ("commented.jpg", jpeg(comment=HTML_PAGE), "image/jpeg", "image"),
        ("bomb.zip", zip_bomb(), "application/zip", "other"),
        ("drawing.svg", SVG_SCRIPT, "image/svg+xml", "other"),
        ("photo.jpg", HTML_PAGE, "text/html", "page"),
    ],
)
def test_it_archives_polyglots_archives_and_scripts_as_what_their_bytes_are(
    contributor: User, capture_storage: Path, name: str, data: bytes, mime: str, kind: str
) -> None:
    job = upload_run(data, name, contributor)
    assert job.state == CaptureJob.State.DONE, job.error_message
    capture = Capture.objects.get(custody__job=job)
    assert (capture.mime, capture.kind) == (mime, kind)
    assert (capture_storage / capture.storage_key).read_bytes() == data  # kept as it came
    shown = [d for d in capture.derivatives.values() if d["mime"].startswith("image/")]
    assert len(shown) == (2 if kind == "image" else 0)
    for derived in shown:  # re-encoded: nothing smuggled along
        body = (capture_storage / derived["key"]).read_bytes()
        assert derived["mime"] == "image/jpeg"
        assert b"PK\x03\x04" not in body
        assert b"<script" not in body


@pytest.mark.parametrize("data", [HTML_PAGE, SVG_SCRIPT])
def test_it_sends_an_original_only_as_a_sandboxed_download(
    contributor: User, admin_user: User, capture_storage: Path, data: bytes
) -> None:
    job = upload_run(data, "photo.jpg", contributor)
    capture = Capture.objects.get(custody__job=job)
    client = Client()
    client.force_login(admin_user)
    response = client.get(f"/evidence/originals/{capture.sha256}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    # There is no rendition of a page or a drawing to show inline.
    assert client.get(f"/evidence/derived/{capture.sha256}/web").status_code == 404


def test_the_api_takes_hostile_files_without_a_server_error(
    contributor: User, capture_storage: Path
) -> None:
    _, key = token_create(user=contributor, name="uploader", scope="write")
    files = [
        ("png-50k.png", png_claiming(50_000, 50_000)),
        ("bomb.zip", zip_bomb()),
        ("empty.jpg", b""),
        ("../../etc/passwd", b"root:x:0:0"),
        ("x" * 400 + ".jpg", jpeg()),
    ]
    response = Client().post(
        "/api/v1/captures/upload",
        {"files": [_named(data, name) for name, data in files]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [r["code"] for r in body["refused"]] == ["invalid"]  # the empty file
    assert "empty" in body["refused"][0]["message"]
    assert len(body["jobs"]) == 4
    for stored in body["jobs"]:
        pipeline.job_run(stored["id"])
    # Stored under their hashes only: a name never becomes a path.
    assert all(
        key.startswith(("captures/", "derivatives/")) for key in stored_keys(capture_storage)
    )
    assert not (capture_storage.parent / "etc").exists()
    ended = CaptureJob.objects.filter(pk__in=[j["id"] for j in body["jobs"]])
    assert {job.error_code for job in ended} <= {"", "bad_media"}


def _named(data: bytes, name: str) -> io.BytesIO:
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def test_it_refuses_a_gzip_bomb_given_to_an_importer_without_unpacking_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "MAX_INPUT_BYTES", 1_000_000)
    bomb = tmp_path / "page.html.gz"
    bomb.write_bytes(gzip.compress(b"<html>" + b" " * 60_000_000, compresslevel=9))
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused, match="unpacks to more than the limit of 0 MB"):
            source_read(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # the 60 MB were never held


def test_it_refuses_a_truncated_gzip_given_to_an_importer(tmp_path: Path) -> None:
    cut = tmp_path / "page.html.gz"
    cut.write_bytes(gzip.compress(b"<html>" + b"x" * 10_000)[:-12])
    with pytest.raises(ImportRefused, match="damaged or truncated gzip"):
        source_read(cut)
