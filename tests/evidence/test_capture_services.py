"""Recording a fetched file: one capture per SHA-256, one custody record per collection."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from attrition.accounts.models import User
from attrition.capture.steps.http_fetch import Limits, run
from attrition.evidence.capture_services import capture_record
from attrition.evidence.models import Capture, CustodyRecord
from attrition.evidence.services import evidence_create
from tests.conftest import TEST_FETCH_MAX_BYTES
from tests.loopback import JPEG, PNG, Loopback

FAST = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=2.0, connect_s=1.0, read_s=0.5)
pytestmark = pytest.mark.django_db


def test_it_records_a_capture_with_its_custody(
    media_server: Loopback, capture_storage: Path, tmp_path: Path, contributor: User
) -> None:
    evidence = evidence_create(url="https://t.me/s/test_channel/7")
    fetched = run(media_server.url("/r/3"), limits=FAST, tmp_dir=tmp_path)
    capture = capture_record(evidence=evidence, fetched=fetched, by=contributor, method="http")

    assert capture.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert capture.kind == Capture.Kind.IMAGE
    assert capture.mime == "image/jpeg"
    assert capture.size_bytes == len(JPEG)
    assert (capture_storage / capture.storage_key).read_bytes() == JPEG
    assert not fetched.path.exists()

    custody = CustodyRecord.objects.get(capture=capture)
    assert custody.evidence == evidence
    assert custody.collected_by == contributor
    assert custody.collected_at == fetched.collected_at
    assert custody.collected_at.tzinfo is not None
    assert custody.collected_at.utcoffset() == dt.timedelta(0)
    assert custody.source_url == media_server.url("/r/3")
    assert custody.http_status == 200
    assert custody.http_headers["final_url"] == media_server.url("/photo.jpg")
    assert custody.http_headers["redirect_chain"] == [
        {"url": media_server.url("/r/3"), "status": 302, "location": media_server.url("/photo.jpg")}
    ]
    assert custody.http_headers["headers"]["content-type"] == "image/jpeg"
    assert set(custody.tool_versions) == {"attrition", "urllib3", "python"}
    assert custody.tool_versions["urllib3"][0].isdigit()
    assert list(evidence.captures.all()) == [capture]


def test_it_reuses_the_capture_for_the_same_bytes(
    media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    evidence = evidence_create(url="https://t.me/test_channel/8")
    other = evidence_create(url="https://x.com/someone/status/9")
    first = capture_record(
        evidence=evidence, fetched=run(media_server.url("/photo.jpg"), limits=FAST), method="http"
    )
    second = capture_record(
        evidence=other, fetched=run(media_server.url("/copy.jpg"), limits=FAST), method="http"
    )
    assert second.pk == first.pk
    assert Capture.objects.count() == 1
    assert CustodyRecord.objects.filter(capture=first).count() == 2
    assert sorted(CustodyRecord.objects.values_list("source_url", flat=True)) == [
        media_server.url("/copy.jpg"),
        media_server.url("/photo.jpg"),
    ]
    stored = [p for p in capture_storage.rglob("*") if p.is_file()]
    assert stored == [capture_storage / first.storage_key]


def test_it_keeps_different_bytes_apart(
    media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    evidence = evidence_create(url="https://t.me/test_channel/10")
    jpeg = capture_record(
        evidence=evidence, fetched=run(media_server.url("/photo.jpg"), limits=FAST)
    )
    png = capture_record(
        evidence=evidence, fetched=run(media_server.url("/photo.png"), limits=FAST)
    )
    assert jpeg.pk != png.pk
    assert png.sha256 == hashlib.sha256(PNG).hexdigest()
    assert evidence.captures.count() == 2
