"""Archive one received file: store the original, learn what it is, and record it with custody.

Steps 4 to 8 for one file. The original and its derived files are in storage before the one
transaction that records them starts, and everything derived is named after the original's
SHA-256, so a crash at any point leaves nothing a record points at missing, and running again
reuses what is already stored instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.utils import timezone

from attrition import config
from attrition.capture.errors import BadMedia
from attrition.capture.models import CaptureJob
from attrition.capture.steps import enrich, pdq, store, video
from attrition.capture.tools import tool_versions
from attrition.capture.workspace import workspace
from attrition.evidence.models import Capture, CustodyEvent, CustodyRecord, FrameHash

DERIVED = "derivatives"
EXTENSIONS = {"image/jpeg": ".jpg", "image/webp": ".webp", "image/png": ".png"}

StepRunner = Callable[..., Any]


@dataclass(frozen=True)
class Received:
    """A file a capture received, and how: what every custody record needs to say."""

    path: Path
    sha256: str
    size: int
    method: str
    source_url: str
    final_url: str
    collected_at: dt.datetime
    declared_mime: str = ""
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chain: tuple[dict[str, Any], ...] = ()
    address: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    name: str = ""


@dataclass
class Learned:
    """What steps 5 to 7 learned about a new original, ready to be recorded."""

    kind: str
    mime: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    exif: dict[str, Any] | None = None
    pdq_hex: str = ""
    pdq_quality: int | None = None
    derivatives: dict[str, dict[str, Any]] = field(default_factory=dict)
    frames: list[FrameHash] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: BadMedia | None = None
    dihedral: tuple[pdq.Pdq, ...] = ()


def derived_key(sha256: str, name: str) -> str:
    """Return the storage key of a file derived from the original with this SHA-256."""
    return f"{DERIVED}/{sha256[:2]}/{sha256}/{name}"


def derived_put(storage: Storage, key: str, path: Path) -> str:
    """Store a derived file under `key` unless an earlier run already did; return the key."""
    if not storage.exists(key):
        with path.open("rb") as fh:
            saved = storage.save(key, File(fh))
        if saved != key:  # another worker stored it meanwhile: keep theirs
            storage.delete(saved)
    return key


@contextmanager
def local_copy(storage: Storage, key: str) -> Iterator[Path]:
    """Yield a local path holding the stored object (the object itself when on local disk)."""
    try:
        yield Path(storage.path(key))
        return
    except NotImplementedError:
        pass
    with workspace("read") as tmp:
        local = tmp / "original"
        with storage.open(key, "rb") as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        yield local


def learn(
    *, path: Path, sha256: str, declared_mime: str, step: StepRunner, storage: Storage
) -> Learned:
    """Run enrich (5), video (6) and PDQ (7) on an original and store its derived files."""
    with workspace("derive") as workdir:
        try:
            facts = step(
                5, "enrich", enrich.run, path=path, workdir=workdir, declared_mime=declared_mime
            )
        except BadMedia as exc:
            return Learned(kind=Capture.Kind.OTHER, mime=sniffed_or(declared_mime), error=exc)
        learned = Learned(
            kind=facts.kind,
            mime=facts.mime,
            width=facts.width,
            height=facts.height,
            exif=facts.exif,
            notes=list(facts.notes),
        )
        for derivative in facts.derivatives:
            name = f"{derivative.name}{EXTENSIONS.get(derivative.mime, '')}"
            key = derived_put(storage, derived_key(sha256, name), derivative.path)
            learned.derivatives[derivative.name] = {
                "key": key,
                "mime": derivative.mime,
                "width": derivative.width,
                "height": derivative.height,
            }
        try:
            if learned.kind == Capture.Kind.VIDEO:
                learn_video(
                    learned, path=path, sha256=sha256, workdir=workdir, step=step, storage=storage
                )
            elif learned.kind == Capture.Kind.IMAGE:
                learned.dihedral = step(7, "pdq", pdq.run_dihedral, path=path)
                hashed = learned.dihedral[0]
                learned.pdq_hex, learned.pdq_quality = hashed.hex, hashed.quality
                if not hashed.trusted:
                    learned.notes.append(f"low-quality PDQ hash ({hashed.quality}): not trusted")
                features_learn(learned, path=path, sha256=sha256, step=step, storage=storage)
        except BadMedia as exc:
            learned.error = exc
        return learned


def features_learn(
    learned: Learned, *, path: Path, sha256: str, step: StepRunner, storage: Storage
) -> None:
    """Store an image's local features for tier-2 matching; an image without any is noted."""
    from attrition.dedup import tier2

    key = derived_key(sha256, "features.npz")
    try:
        learned.derivatives[tier2.NAME] = step(
            7, "features", tier2.features_store, path=path, key=key, storage=storage
        )
    except BadMedia as exc:
        learned.notes.append(f"no local features: {exc.message}")


def sniffed_or(declared: str) -> str:
    """Return the declared media type cleaned up, or the generic binary type."""
    return declared.partition(";")[0].strip().lower() or "application/octet-stream"


def learn_video(
    learned: Learned, *, path: Path, sha256: str, workdir: Path, step: StepRunner, storage: Storage
) -> None:
    """Probe a video, sample and hash its frames, and store the frames and the poster."""
    clip = step(
        6,
        "video",
        video.run,
        path=path,
        workdir=workdir,
        every_s=float(config.VIDEO_FRAME_EVERY_S.read()),
        max_frames=config.VIDEO_MAX_FRAMES.read(),
    )
    learned.width, learned.height, learned.duration_s = clip.width, clip.height, clip.duration_s
    for frame in clip.frames:
        key = derived_put(storage, derived_key(sha256, f"frames/{frame.t_ms:09d}.jpg"), frame.path)
        learned.frames.append(
            FrameHash(
                t_ms=frame.t_ms,
                is_keyframe=frame.is_keyframe,
                pdq=frame.pdq.hex,
                pdq_quality=frame.pdq.quality,
                storage_key=key,
            )
        )
    if clip.poster is not None:
        key = derived_put(storage, derived_key(sha256, "poster.jpg"), clip.poster)
        learned.derivatives["thumb"] = {"key": key, "mime": "image/jpeg"}
    step(7, "pdq", lambda: f"{len(clip.frames)} frames hashed")


def archive(
    *, job: CaptureJob, received: Received, step: StepRunner, storage: Storage | None = None
) -> tuple[Capture, BadMedia | None]:
    """Store, enrich, hash and record one received file; return its capture and any media error."""
    storage = storage or default_storage
    stored = step(
        4,
        "store",
        store.run,
        path=received.path,
        sha256=received.sha256,
        size=received.size,
        storage=storage,
    )
    existing = Capture.objects.filter(sha256=received.sha256).first()
    error: BadMedia | None = None
    if existing is None:
        with local_copy(storage, stored.key) as local:
            learned = learn(
                path=local,
                sha256=received.sha256,
                declared_mime=received.declared_mime,
                step=step,
                storage=storage,
            )
        error = learned.error
    else:
        step(5, "enrich", lambda: f"already archived as capture #{existing.pk}: reused")
        learned = None
    with transaction.atomic():
        capture = existing or capture_create(received, stored.key, learned)
        step(8, "custody", custody_record, job=job, capture=capture, received=received)
    if existing is None and error is None and learned is not None:
        from attrition.dedup.matching import capture_match

        step(9, "match", capture_match, capture=capture, dihedral=learned.dihedral)
    return capture, error


def capture_create(received: Received, key: str, learned: Learned | None) -> Capture:
    """Insert the capture of a new original with what was learned, or reuse a racing insert."""
    assert learned is not None
    notes = [*learned.notes]
    if learned.error is not None:
        notes.append(f"{learned.error.code}: {learned.error.message}")
    capture, created = Capture.objects.get_or_create(
        sha256=received.sha256,
        defaults={
            "kind": learned.kind,
            "storage_key": key,
            "mime": learned.mime,
            "size_bytes": received.size,
            "width": learned.width,
            "height": learned.height,
            "duration_s": learned.duration_s,
            "pdq": learned.pdq_hex,
            "pdq_quality": learned.pdq_quality,
            "exif": learned.exif,
            "derivatives": learned.derivatives,
            "notes": notes,
        },
    )
    if created and learned.frames:
        for frame in learned.frames:
            frame.capture = capture
        FrameHash.objects.bulk_create(learned.frames)
    return capture


def custody_record(*, job: CaptureJob, capture: Capture, received: Received) -> str:
    """Record who collected the file for the evidence, when, from where, and with what tools."""
    record, created = CustodyRecord.objects.get_or_create(
        job=job,
        capture=capture,
        defaults={
            "evidence": job.evidence,
            "method": received.method,
            "collected_by": job.submitted_by,
            "collected_at": received.collected_at,
            "source_url": received.source_url,
            "http_status": received.http_status,
            "http_headers": {
                "final_url": received.final_url,
                "redirect_chain": list(received.chain),
                "address": received.address,
                "headers": received.headers,
                "info": received.info,
                "upload_name": received.name,
            },
            "tool_versions": tool_versions(),
        },
    )
    if created:
        CustodyEvent.objects.create(
            capture=capture,
            evidence=job.evidence,
            action=CustodyEvent.Action.CAPTURED,
            actor=job.submitted_by,
            at=timezone.now(),
            detail={
                "job": job.pk,
                "method": received.method,
                "source_url": received.source_url,
                "sha256": capture.sha256,
            },
        )
    return f"custody #{record.pk} for capture #{capture.pk} ({capture.kind}, {capture.mime})"
