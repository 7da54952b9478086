"""Imports started from the admin and run as jobs: upload and dry run, confirm, run, retry.

Each step goes through `registry.import_run`, the one import path: a run is uploaded and planned
(its dry-run report kept), confirmed by an admin, then applied by the job `importers.run`, which
keeps the report or the error. A failed run stays as it is; retrying makes a new run of the same
upload, which starts again with a dry run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from attrition.errors import AttritionError, InvalidInput
from attrition.importers import registry
from attrition.importers.models import ImportRun
from attrition.importers.registry import ImportOptions, ImportRefused, import_run, importer_get
from attrition.importers.report import ImportReport
from attrition.jobs import enqueue

JOB = "importers.run"
# Lists longer than this are cut in the stored reports (their counts stay whole).
REPORT_LIMIT = 1000
TEXT_LIMIT = 200
OPTION_KEYS = ("conflict", "side", "status", "params")


def report_json(report: ImportReport) -> dict[str, Any]:
    """Return a report as JSON to keep on a run: counts, text, and its lists (cut when long)."""
    data: dict[str, Any] = dataclasses.asdict(report)
    for key, value in list(data.items()):
        if isinstance(value, list) and len(value) > REPORT_LIMIT:
            data[key] = value[:REPORT_LIMIT]
            data[f"{key}_more"] = len(value) - REPORT_LIMIT
    data["counts"] = report.counts()
    data["text"] = report.text(limit=TEXT_LIMIT)
    return data


def run_options(run: ImportRun, *, dry_run: bool) -> ImportOptions:
    """Return the options a run was started with, applied by whoever confirmed it."""
    options = run.options
    by_id = options.get("confirmed_by") if not dry_run else None
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else run.created_by
    return ImportOptions(
        conflict=options.get("conflict") or None,
        side=options.get("side") or None,
        status=options.get("status") or "submitted",
        params=options.get("params") or {},
        dry_run=dry_run,
        by=by,
    )


def run_data(run: ImportRun) -> bytes:
    """Return the run's upload as the importer reads it, refusing one that changed since."""
    with run.upload.open("rb") as stored:
        data = stored.read()
    if hashlib.sha256(data).hexdigest() != run.sha256:
        raise ImportRefused(
            f"the stored upload of run #{run.pk} no longer has the SHA-256 it was uploaded with"
        )
    # Unpacked (gzip) through the same code as files given to `attrition import`.
    with tempfile.TemporaryDirectory(prefix="attrition-import-") as folder:
        path = Path(folder) / (Path(run.source_name).name or "upload")
        path.write_bytes(data)
        try:
            return registry.source_read(path)
        except ImportRefused as exc:
            raise ImportRefused(exc.message.replace(str(path), run.source_name)) from None


def import_run_create(
    *, kind: str, upload: File[Any], options: dict[str, Any], by: Any
) -> ImportRun:
    """Store an upload as a new run and make its dry run; return the run (planned or failed)."""
    importer_get(kind)
    unknown = set(options) - set(OPTION_KEYS)
    if unknown:
        raise InvalidInput(f"unknown import options: {', '.join(sorted(unknown))}")
    size = upload.size or 0
    if size > registry.MAX_INPUT_BYTES:
        limit = registry.MAX_INPUT_BYTES // (1024 * 1024)
        raise ImportRefused(f"the file is {size // (1024 * 1024)} MB: the limit is {limit} MB")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    name = Path(upload.name or "upload").name[:200]
    run = ImportRun(
        kind=kind,
        source_name=name,
        sha256=digest.hexdigest(),
        options=options,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    upload.seek(0)
    run.upload.save(name, upload, save=False)
    run.save()
    return import_run_dry(run=run)


def import_run_dry(*, run: ImportRun) -> ImportRun:
    """Make the run's dry run and keep its report; a refused input marks the run failed."""
    try:
        report = import_run(
            kind=run.kind,
            data=run_data(run),
            source_name=run.source_name,
            options=run_options(run, dry_run=True),
        )
    except AttritionError as exc:
        return _failed(run, exc.message)
    run.dry_run_report = report_json(report)
    run.state = ImportRun.State.PLANNED
    run.error = ""
    run.save(update_fields=["dry_run_report", "state", "error"])
    return run


def _failed(run: ImportRun, error: str) -> ImportRun:
    run.state = ImportRun.State.FAILED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error", "finished_at"])
    return run


def _state_refused(run_id: int, wanted: str, action: str) -> InvalidInput:
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None:
        return InvalidInput(f"there is no import run #{run_id}")
    return InvalidInput(f"import run #{run_id} is {run.state}: only a {wanted} run can be {action}")


def import_run_confirm(*, run_id: int, by: Any) -> ImportRun:
    """Queue a planned run to be applied by the job worker, on behalf of `by`."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state != ImportRun.State.PLANNED:
            raise _state_refused(run_id, "planned", "confirmed")
        run.state = ImportRun.State.QUEUED
        run.options = {**run.options, "confirmed_by": getattr(by, "pk", None)}
        run.save(update_fields=["state", "options"])
        transaction.on_commit(lambda: enqueue(JOB, run_id=run_id))
    return run


def import_run_cancel(*, run_id: int, by: Any) -> ImportRun:
    """Cancel a planned run: nothing of it is ever applied."""
    updated = ImportRun.objects.filter(pk=run_id, state=ImportRun.State.PLANNED).update(
        state=ImportRun.State.CANCELLED, finished_at=timezone.now()
    )
    if not updated:
        raise _state_refused(run_id, "planned", "cancelled")
    return ImportRun.objects.get(pk=run_id)


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Apply a queued run (the job); keep its report, or its error if it failed."""
    claimed = ImportRun.objects.filter(pk=run_id, state=ImportRun.State.QUEUED).update(
        state=ImportRun.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None  # already run, or cancelled: a second delivery of the job does nothing
    run = ImportRun.objects.get(pk=run_id)
    try:
        report = import_run(
            kind=run.kind,
            data=run_data(run),
            source_name=run.source_name,
            options=run_options(run, dry_run=False),
        )
    except AttritionError as exc:
        return _failed(run, exc.message)
    except BaseException as exc:
        # Recorded so that the run does not stay "running"; raised again for the job's log.
        _failed(run, f"internal error ({type(exc).__name__}): {exc}")
        raise
    run.report = report_json(report)
    run.state = ImportRun.State.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["report", "state", "finished_at"])
    return run


def import_run_retry(*, run_id: int, by: Any) -> ImportRun:
    """Start a failed run again as a new run of the same upload, beginning with its dry run."""
    old = ImportRun.objects.filter(pk=run_id).first()
    if old is None or old.state != ImportRun.State.FAILED:
        raise _state_refused(run_id, "failed", "retried")
    options = {k: v for k, v in old.options.items() if k in OPTION_KEYS}
    run = ImportRun(
        kind=old.kind,
        source_name=old.source_name,
        sha256=old.sha256,
        options={**options, "retry_of": old.pk},
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    run.upload.name = old.upload.name
    run.save()
    return import_run_dry(run=run)
