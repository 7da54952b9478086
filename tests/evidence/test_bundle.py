"""Verification bundles hold originals, hashes, custody and log, and `verify` finds any change."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from attrition.accounts.models import User
from attrition.capture.steps import store
from attrition.cli import cli
from attrition.errors import InvalidInput
from attrition.evidence.bundle import MANIFEST, bundle_verify, bundle_write
from attrition.evidence.models import Capture, CustodyEvent, CustodyRecord, Evidence
from attrition.evidence.services import evidence_create
from tests.loopback import JPEG, PNG

pytestmark = pytest.mark.django_db


def archived(evidence: Evidence, body: bytes, tmp_path: Path, by: User | None = None) -> Capture:
    """Store bytes as a capture of the evidence, with a custody record and a log entry."""
    sha = hashlib.sha256(body).hexdigest()
    path = tmp_path / f"{sha}.part"
    path.write_bytes(body)
    stored = store.run(path=path, sha256=sha, size=len(body))
    capture = Capture.objects.create(
        sha256=sha, kind="image", storage_key=stored.key, mime="image/jpeg", size_bytes=len(body)
    )
    CustodyRecord.objects.create(
        evidence=evidence,
        capture=capture,
        method="http",
        collected_by=by,
        collected_at=timezone.now(),
        source_url=evidence.url,
        http_status=200,
    )
    CustodyEvent.objects.create(
        capture=capture, evidence=evidence, action="captured", actor=by, at=timezone.now()
    )
    return capture


@pytest.fixture
def evidence(capture_storage: Path, tmp_path: Path, contributor: User) -> Evidence:
    found = evidence_create(url="https://t.me/frontline/101", by=contributor)
    archived(found, JPEG, tmp_path, contributor)
    archived(found, PNG, tmp_path, contributor)
    return found


def test_it_bundles_every_original_with_its_hashes_custody_and_log(
    evidence: Evidence, tmp_path: Path, contributor: User
) -> None:
    out = tmp_path / "bundle.zip"
    manifest = bundle_write(evidence=evidence, out=out)

    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        jpeg_sha = hashlib.sha256(JPEG).hexdigest()
        assert zf.read(f"originals/{jpeg_sha}") == JPEG
        written = json.loads(zf.read(MANIFEST))
    assert names == {
        "manifest.json",
        "manifest.sha256",
        f"originals/{hashlib.sha256(JPEG).hexdigest()}",
        f"originals/{hashlib.sha256(PNG).hexdigest()}",
    }
    assert written == manifest
    assert written["evidence"]["url"] == "https://t.me/frontline/101"
    entry = next(c for c in written["captures"] if c["sha256"] == jpeg_sha)
    assert entry["custody"][0]["collected_by"] == contributor.get_username()
    assert entry["custody"][0]["http_status"] == 200
    assert [e["action"] for e in entry["log"]] == ["captured"]
    # Bundling is itself on each capture's custody log.
    assert CustodyEvent.objects.filter(action="bundled", evidence=evidence).count() == 2
    assert not out.with_name("bundle.zip.part").exists()


def test_it_verifies_an_untouched_bundle(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    bundle_write(evidence=evidence, out=out)
    verdict = bundle_verify(out)
    assert verdict.ok, verdict.problems
    assert verdict.checked == 2


def flip_one_byte_of(path: Path, needle: bytes) -> None:
    """Flip the bits of one byte of a file, inside the first occurrence of `needle`."""
    data = bytearray(path.read_bytes())
    at = data.index(needle) + len(needle) // 2
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_it_detects_a_single_flipped_byte_in_an_original(
    evidence: Evidence, tmp_path: Path
) -> None:
    out = tmp_path / "bundle.zip"
    bundle_write(evidence=evidence, out=out)
    flip_one_byte_of(out, PNG[20:40])  # originals are stored uncompressed: the bytes are there

    verdict = bundle_verify(out)
    assert not verdict.ok
    png = f"originals/{hashlib.sha256(PNG).hexdigest()}"
    assert any(png in problem for problem in verdict.problems), verdict.problems
    assert verdict.checked == 1  # the JPEG still matches


def test_it_detects_an_edited_manifest(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    bundle_write(evidence=evidence, out=out)
    rewritten = tmp_path / "rewritten.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == MANIFEST:
                body = body.replace(b"frontline/101", b"frontline/102")
            dst.writestr(item, body)
    verdict = bundle_verify(rewritten)
    assert not verdict.ok
    assert "the manifest was altered" in verdict.problems[0]


def test_it_detects_an_added_or_removed_file(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    bundle_write(evidence=evidence, out=out)
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("originals/extra", b"planted")
    verdict = bundle_verify(out)
    assert verdict.problems == ["originals/extra is in the bundle but not in its manifest"]


def test_it_refuses_a_bundle_when_a_stored_original_was_altered(
    evidence: Evidence, capture_storage: Path, tmp_path: Path
) -> None:
    capture = Capture.objects.get(sha256=hashlib.sha256(JPEG).hexdigest())
    (capture_storage / capture.storage_key).write_bytes(JPEG[:-1] + b"\x00")
    out = tmp_path / "bundle.zip"
    with pytest.raises(InvalidInput, match="storage was altered"):
        bundle_write(evidence=evidence, out=out)
    assert not out.exists()
    assert not out.with_name("bundle.zip.part").exists()


def test_it_keeps_the_custody_log_append_only(evidence: Evidence) -> None:
    event = CustodyEvent.objects.filter(evidence=evidence).first()
    assert event is not None
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).update(action="viewed")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "captured"


def test_it_bundles_and_verifies_from_the_command_line(
    evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(cli, ["bundle", str(evidence.pk), "-o", "b.zip"])
    assert made.exit_code == 0, made.output
    assert "2 original(s)" in made.output
    again = runner.invoke(cli, ["bundle", evidence.url, "-o", "b.zip"])
    assert again.exit_code == 2
    assert "not overwritten" in again.output

    good = runner.invoke(cli, ["verify", "b.zip"])
    assert good.exit_code == 0, good.output
    assert "verifies" in good.output

    flip_one_byte_of(tmp_path / "b.zip", JPEG[200:260])
    bad = runner.invoke(cli, ["verify", "b.zip"])
    assert bad.exit_code == 1
    assert "MISMATCH originals/" in bad.output
    assert "does NOT verify" in bad.output


def test_it_says_clearly_what_cannot_be_bundled_or_verified(
    db: None, capture_storage: Path, tmp_path: Path
) -> None:
    bare = evidence_create(url="https://x.com/someone/status/1")
    runner = CliRunner()
    none = runner.invoke(cli, ["bundle", str(bare.pk), "-o", str(tmp_path / "x.zip")])
    assert none.exit_code == 2
    assert "no captures" in none.output
    unknown = runner.invoke(cli, ["bundle", "999999"])
    assert unknown.exit_code == 2
    assert "no evidence" in unknown.output
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = runner.invoke(cli, ["verify", str(junk)])
    assert result.exit_code == 1
    assert "not a readable zip file" in result.output
