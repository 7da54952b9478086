"""Open-data files of the public ledger, written to storage by a job and served as downloads."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Literal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Count, Max
from django.utils import timezone

from attrition.losses.exports import export_losses
from attrition.losses.tally import public_losses

FORMATS: tuple[Literal["csv", "json"], ...] = ("csv", "json")
MANIFEST = "exports/manifest.json"


def snapshot_name(fmt: str) -> str:
    """Return the storage name of the latest download in a format."""
    return f"exports/losses.{fmt}"


def ledger_stamp() -> str:
    """Return a fingerprint of the public ledger: changes whenever a public loss does."""
    agg = public_losses().aggregate(n=Count("id"), last=Max("updated_at"))
    return f"{agg['n']}:{agg['last'].isoformat() if agg['last'] else '-'}"


def snapshot_manifest() -> dict[str, object] | None:
    """Return what the latest snapshot holds (when, how many, hashes), or None if none yet."""
    if not default_storage.exists(MANIFEST):
        return None
    with default_storage.open(MANIFEST) as fh:
        manifest: dict[str, object] = json.load(fh)
    return manifest


def snapshot_refresh(*, force: bool = False) -> dict[str, int]:
    """Write fresh CSV and JSON files of the public ledger unless nothing changed since the last."""
    stamp = ledger_stamp()
    manifest = snapshot_manifest()
    if not force and manifest is not None and manifest.get("stamp") == stamp:
        return {}
    counts: dict[str, int] = {}
    files: dict[str, dict[str, object]] = {}
    for fmt in FORMATS:
        buffer = io.StringIO()
        counts[fmt] = export_losses(fmt=fmt, out=buffer)
        data = buffer.getvalue().encode()
        name = snapshot_name(fmt)
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(data))
        files[fmt] = {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    new_manifest = {
        "stamp": stamp,
        "generated_at": timezone.now().isoformat(),
        "losses": counts["csv"],
        "files": files,
    }
    if default_storage.exists(MANIFEST):
        default_storage.delete(MANIFEST)
    default_storage.save(MANIFEST, ContentFile(json.dumps(new_manifest, indent=1).encode()))
    return counts
