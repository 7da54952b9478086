"""Link rot: sources are checked again, marked alive, gone or changed, and orphans reported."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.utils import timezone

from attrition.capture.steps import store
from attrition.cli import cli
from attrition.evidence.liveness import (
    due,
    interleaved,
    linkrot_check,
    orphaned_losses,
)
from attrition.evidence.models import (
    Capture,
    CustodyEvent,
    CustodyRecord,
    Evidence,
    LivenessCheck,
    SourceStatus,
)
from attrition.evidence.services import evidence_create
from attrition.losses.services import depiction_create
from tests.ledger import Ledger
from tests.loopback import JPEG, PNG, Loopback, send

pytestmark = pytest.mark.django_db


def captured(url: str, body: bytes, tmp_path: Path) -> Evidence:
    """Return evidence for a URL with a capture of `body` fetched straight from it."""
    evidence = evidence_create(url=url)
    sha = hashlib.sha256(body).hexdigest()
    path = tmp_path / sha
    path.write_bytes(body)
    key = store.run(path=path, sha256=sha, size=len(body)).key
    capture, _ = Capture.objects.get_or_create(
        sha256=sha,
        defaults={
            "kind": "image",
            "storage_key": key,
            "mime": "image/jpeg",
            "size_bytes": len(body),
        },
    )
    CustodyRecord.objects.create(
        evidence=evidence,
        capture=capture,
        method="http",
        collected_at=timezone.now(),
        source_url=url,
        http_status=200,
    )
    return evidence


def no_sleep(seconds: float) -> None:
    pass


def test_it_marks_a_source_that_still_serves_the_same_bytes_alive(
    media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    evidence = captured(media_server.url("/photo.jpg"), JPEG, tmp_path)
    counts = linkrot_check(evidence=[evidence], sleep=no_sleep)
    assert counts == {"alive": 1}
    evidence.refresh_from_db()
    assert evidence.source_status == SourceStatus.ALIVE
    assert evidence.source_checked_at is not None
    check = LivenessCheck.objects.get(evidence=evidence)
    assert check.http_status == 200
    assert check.sha256 == hashlib.sha256(JPEG).hexdigest()
    # Re-checking is on each capture's custody log.
    assert CustodyEvent.objects.filter(evidence=evidence, action="rechecked").count() == 1


def test_it_marks_a_source_whose_file_changed(
    media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    edited = JPEG[:-3] + bytes([JPEG[-3] ^ 0xFF]) + JPEG[-2:]  # same size, one byte different
    evidence = captured(media_server.url("/photo.jpg"), edited, tmp_path)
    assert linkrot_check(evidence=[evidence], sleep=no_sleep) == {"changed": 1}
    evidence.refresh_from_db()
    assert evidence.source_status == SourceStatus.CHANGED
    assert "differs from the captured" in LivenessCheck.objects.get(evidence=evidence).detail

    smaller = captured(media_server.url("/copy.jpg"), PNG, tmp_path)  # PNG is smaller
    assert len(PNG) < len(JPEG)
    assert linkrot_check(evidence=[smaller], sleep=no_sleep) == {"changed": 1}
    assert "larger than" in LivenessCheck.objects.get(evidence=smaller).detail


@pytest.mark.parametrize("path", ["/missing", "/gone"])
def test_it_marks_a_deleted_source_gone(
    media_server: Loopback, capture_storage: Path, tmp_path: Path, path: str
) -> None:
    evidence = captured(media_server.url(path), JPEG, tmp_path)
    assert linkrot_check(evidence=[evidence], sleep=no_sleep) == {"gone": 1}
    evidence.refresh_from_db()
    assert evidence.source_status == SourceStatus.GONE
    assert LivenessCheck.objects.get(evidence=evidence).http_status in {404, 410}


def test_it_records_a_failed_check_without_changing_the_status(
    media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    evidence = captured(media_server.url("/photo.jpg"), JPEG, tmp_path)
    Evidence.objects.filter(pk=evidence.pk).update(source_status=SourceStatus.ALIVE)
    media_server.routes["/photo.jpg"] = lambda h: send(h, b"down", status=503)
    assert linkrot_check(evidence=[evidence], sleep=no_sleep) == {"error": 1}
    evidence.refresh_from_db()
    assert evidence.source_status == SourceStatus.ALIVE
    assert LivenessCheck.objects.get(evidence=evidence).result == "error"


def test_it_never_fetches_an_internal_address(
    db: None, capture_storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTRITION_FETCH_ALLOW", raising=False)
    evidence = evidence_create(url="http://169.254.169.254/latest/meta-data/")
    assert linkrot_check(evidence=[evidence], sleep=no_sleep) == {"error": 1}
    assert "fetch_refused" in LivenessCheck.objects.get(evidence=evidence).detail


def test_it_spaces_requests_to_one_host_and_interleaves_hosts(
    media_server: Loopback, capture_storage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_LINKROT_HOST_INTERVAL_S", "30")
    same_host = [captured(media_server.url(p), JPEG, tmp_path) for p in ("/photo.jpg", "/copy.jpg")]
    other = evidence_create(url="https://t.me/frontline/5")
    assert [e.pk for e in interleaved([*same_host, other])] == [
        same_host[0].pk,
        other.pk,
        same_host[1].pk,
    ]
    waits: list[float] = []
    linkrot_check(evidence=same_host, sleep=waits.append)
    assert len(waits) == 1
    assert 25 < waits[0] <= 30


def test_it_checks_the_oldest_checked_sources_first_and_skips_recent_ones(db: None) -> None:
    now = timezone.now()
    fresh = evidence_create(url="https://t.me/a/1")
    old = evidence_create(url="https://t.me/a/2")
    never = evidence_create(url="https://t.me/a/3")
    Evidence.objects.filter(pk=fresh.pk).update(source_checked_at=now - dt.timedelta(days=1))
    Evidence.objects.filter(pk=old.pk).update(source_checked_at=now - dt.timedelta(days=30))
    assert [e.pk for e in due(now=now)] == [never.pk, old.pk]
    assert [e.pk for e in due(now=now, limit=1)] == [never.pk]


def test_it_reports_losses_whose_every_source_is_gone(
    ledger: Ledger, media_server: Loopback, capture_storage: Path, tmp_path: Path
) -> None:
    gone = captured(media_server.url("/gone"), JPEG, tmp_path)
    alive = captured(media_server.url("/photo.png"), PNG, tmp_path)
    orphan = ledger.loss()
    depiction_create(loss=orphan, evidence=gone)
    covered = ledger.loss()
    depiction_create(loss=covered, evidence=gone)
    depiction_create(loss=covered, evidence=alive)

    linkrot_check(evidence=[gone, alive], sleep=no_sleep)
    rows = orphaned_losses()
    assert [row["loss"].pk for row in rows] == [orphan.pk]
    assert rows[0]["captures"] == [hashlib.sha256(JPEG).hexdigest()]

    result = CliRunner().invoke(cli, ["linkrot"])
    assert result.exit_code == 0, result.output
    assert f"loss #{orphan.pk}" in result.output
    assert f"loss #{covered.pk}" not in result.output
    assert "1 loss(es) rest on captures alone" in result.output
