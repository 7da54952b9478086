"""Verification bundles: a piece of evidence's originals, hashes, custody and log in one zip.

A bundle can be checked offline, with nothing but `attrition verify` (or `sha256sum` and a JSON
reader): every file is listed in `manifest.json` with its SHA-256 and size, originals are named
after their SHA-256, and `manifest.sha256` holds the hash of the manifest itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from attrition.capture.tools import tool_versions
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture, CustodyEvent, CustodyRecord, Evidence

FORMAT = "attrition-bundle/1"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
CHUNK = 1024 * 1024


def original_name(sha256: str) -> str:
    """Return where an original sits inside a bundle."""
    return f"originals/{sha256}"


def custody_dict(record: CustodyRecord) -> dict[str, Any]:
    """Return a custody record as the manifest keeps it."""
    return {
        "method": record.method,
        "collected_by": record.collected_by.get_username() if record.collected_by else None,
        "collected_at": record.collected_at.isoformat(),
        "source_url": record.source_url,
        "http_status": record.http_status,
        "http": record.http_headers,
        "tool_versions": record.tool_versions,
        "job": record.job_id,
    }


def log_dict(event: CustodyEvent) -> dict[str, Any]:
    """Return a custody log entry as the manifest keeps it."""
    return {
        "action": event.action,
        "actor": event.actor.get_username() if event.actor else None,
        "at": event.at.isoformat(),
        "evidence": event.evidence_id,
        "detail": event.detail,
    }


def manifest_build(evidence: Evidence, captures: list[Capture]) -> dict[str, Any]:
    """Return the manifest of a bundle of this evidence (without the files' own entries)."""
    entries = []
    for capture in captures:
        records = capture.custody.filter(evidence=evidence).select_related("collected_by")
        events = capture.custody_log.select_related("actor")
        entries.append(
            {
                "sha256": capture.sha256,
                "size": capture.size_bytes,
                "kind": capture.kind,
                "mime": capture.mime,
                "width": capture.width,
                "height": capture.height,
                "duration_s": capture.duration_s,
                "pdq": capture.pdq,
                "exif": capture.exif,
                "file": original_name(capture.sha256),
                "custody": [custody_dict(r) for r in records],
                "log": [log_dict(e) for e in events],
            }
        )
    return {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "tools": tool_versions(),
        "evidence": {
            "id": evidence.pk,
            "url": evidence.canonical_url,
            "original_url": evidence.original_url,
            "platform": evidence.platform,
            "channel": evidence.channel,
            "title": evidence.title,
            "posted_at": evidence.posted_at.isoformat() if evidence.posted_at else None,
            "source_status": evidence.source_status,
        },
        "captures": entries,
    }


def bundle_write(*, evidence: Evidence, out: Path, by: Any = None, via: str = "") -> dict[str, Any]:
    """Write a verification bundle of a piece of evidence to `out`; return its manifest."""
    captures = list(
        Capture.objects.filter(custody__evidence=evidence).distinct().order_by("created_at", "pk")
    )
    if not captures:
        raise InvalidInput(f"evidence #{evidence.pk} has no captures: nothing to bundle")
    manifest = manifest_build(evidence, captures)
    files: dict[str, dict[str, Any]] = {}
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w") as zf:
        for capture in captures:
            name = original_name(capture.sha256)
            digest = hashlib.sha256()
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            with default_storage.open(capture.storage_key, "rb") as src, zf.open(entry, "w") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
            if digest.hexdigest() != capture.sha256:
                partial.unlink(missing_ok=True)
                raise InvalidInput(
                    f"the stored original of capture #{capture.pk} no longer has SHA-256 "
                    f"{capture.sha256}: storage was altered; no bundle written",
                    details={"capture": capture.pk, "found": digest.hexdigest()},
                )
            files[name] = {"sha256": capture.sha256, "size": capture.size_bytes}
        manifest["files"] = files
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        zf.writestr(MANIFEST, body, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(MANIFEST_HASH, f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}\n")
    shutil.move(partial, out)
    now = timezone.now()
    with transaction.atomic():
        CustodyEvent.objects.bulk_create(
            CustodyEvent(
                capture=capture,
                evidence=evidence,
                action=CustodyEvent.Action.BUNDLED,
                actor=by if getattr(by, "is_authenticated", False) else None,
                at=now,
                detail={"bundle": out.name, "via": via},
            )
            for capture in captures
        )
    return manifest


@dataclass
class Verdict:
    """What checking a bundle found: the files that matched and every problem, in words."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.checked > 0


def bundle_verify(path: Path) -> Verdict:
    """Check a bundle offline: the manifest's hash, then every file's size and SHA-256."""
    verdict = Verdict()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        verdict.problems.append(f"{path.name} is not a readable zip file: {exc}")
        return verdict
    with zf:
        names = set(zf.namelist())
        manifest = manifest_read(zf, names, verdict)
        if manifest is None:
            return verdict
        verdict.manifest = manifest
        files: dict[str, dict[str, Any]] = manifest.get("files") or {}
        for name, expected in sorted(files.items()):
            file_check(zf, names, name, expected, verdict)
        for name in sorted(names - set(files) - {MANIFEST, MANIFEST_HASH}):
            verdict.problems.append(f"{name} is in the bundle but not in its manifest")
        for entry in manifest.get("captures", []):
            if entry.get("file") not in files or files[entry["file"]]["sha256"] != entry["sha256"]:
                verdict.problems.append(
                    f"capture {entry.get('sha256')} is described but its file is not listed"
                )
    return verdict


def manifest_read(zf: zipfile.ZipFile, names: set[str], verdict: Verdict) -> dict[str, Any] | None:
    """Return the bundle's manifest once its hash matches, or None with the problem recorded."""
    for needed in (MANIFEST, MANIFEST_HASH):
        if needed not in names:
            verdict.problems.append(f"{needed} is missing: this is not an attrition bundle")
            return None
    try:
        body = zf.read(MANIFEST)
        stated = zf.read(MANIFEST_HASH).decode("ascii", "replace").split()
    except (zipfile.BadZipFile, OSError) as exc:
        verdict.problems.append(f"{MANIFEST} cannot be read: {exc}")
        return None
    actual = hashlib.sha256(body).hexdigest()
    if not stated or stated[0] != actual:
        verdict.problems.append(
            f"{MANIFEST} has SHA-256 {actual}, but {MANIFEST_HASH} says "
            f"{stated[0] if stated else 'nothing'}: the manifest was altered"
        )
        return None
    try:
        manifest: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        verdict.problems.append(f"{MANIFEST} is not valid JSON: {exc}")
        return None
    if manifest.get("format") != FORMAT:
        verdict.problems.append(f"{MANIFEST} is of format {manifest.get('format')!r}, not {FORMAT}")
        return None
    return manifest


def file_check(
    zf: zipfile.ZipFile, names: set[str], name: str, expected: dict[str, Any], verdict: Verdict
) -> None:
    """Check one listed file's presence, size and SHA-256, recording what does not match."""
    if name not in names:
        verdict.problems.append(f"{name} is listed in the manifest but missing from the bundle")
        return
    digest, size = hashlib.sha256(), 0
    try:
        with zf.open(name) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError) as exc:
        verdict.problems.append(f"{name} cannot be read whole: {exc}")
        return
    if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        verdict.problems.append(
            f"{name}: expected {expected.get('size')} bytes with SHA-256 {expected.get('sha256')}, "
            f"found {size} bytes with SHA-256 {digest.hexdigest()}"
        )
        return
    if name.startswith("originals/") and name.removeprefix("originals/") != digest.hexdigest():
        verdict.problems.append(f"{name} is not named after its SHA-256 {digest.hexdigest()}")
        return
    verdict.checked += 1


def bundle_default_name(evidence: Evidence, now: dt.datetime | None = None) -> str:
    """Return the file name a bundle of this evidence gets by default."""
    now = now or timezone.now()
    return f"evidence-{evidence.pk}-{now:%Y%m%dT%H%M%SZ}.zip"
