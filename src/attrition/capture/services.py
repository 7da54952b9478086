"""Writes for capture jobs: submit a URL or an upload, claim a job, and end it done or failed.

A job's state lives in the database. Claiming is one conditional UPDATE, so two workers nudged
for the same job cannot both run it; a worker that dies leaves a lease that runs out, and the
job is claimed again (at once when a worker on the same host starts and finds its pid gone).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Iterable
from typing import IO, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from attrition import config, history
from attrition.capture.models import CaptureJob
from attrition.capture.steps import store
from attrition.capture.workspace import workspace
from attrition.errors import AttritionError, InvalidInput, NotFound
from attrition.evidence.models import Evidence, Platform
from attrition.evidence.services import evidence_create, url_check
from attrition.history import ChangeKind
from attrition.jobs import enqueue

JOB = "capture.run"
RETRY_BASE_S = 30
RETRY_FACTOR = 4
CHUNK = 1024 * 1024
MAX_URLS = 1000


def worker_name() -> str:
    """Return this process's name as recorded on the jobs it runs: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def capture_submit(
    *,
    url: str,
    by: Any = None,
    via: str = "",
    evidence: Evidence | None = None,
    nudge: bool = True,
) -> CaptureJob:
    """Queue a capture of a URL (creating its evidence); reuse a job already waiting for it.

    With `nudge=False` no worker is told: the caller runs the job itself.
    """
    url = url_check(url)
    evidence = evidence or evidence_create(url=url, by=by, via=via)
    waiting = (
        CaptureJob.objects.filter(evidence=evidence)
        .filter(state__in=[CaptureJob.State.QUEUED, CaptureJob.State.RUNNING])
        .first()
    )
    if waiting is not None:
        return waiting
    job = CaptureJob.objects.create(
        evidence=evidence,
        url=url,
        submitted_by=by if getattr(by, "is_authenticated", False) else None,
        via=via,
        next_attempt_at=timezone.now(),
    )
    if nudge:
        transaction.on_commit(lambda: enqueue(JOB, job_id=job.pk))
    return job


def capture_submit_many(
    *, urls: Iterable[str], by: Any = None, via: str = "", nudge: bool = True
) -> list[Any]:
    """Queue a capture for each URL; return per line its job or the error that refused it.

    Blank lines, `#` comments and repeated lines are skipped; more than MAX_URLS lines are
    refused before anything is queued. Each error names its line in `details["line"]`.
    """
    lines = list(
        dict.fromkeys(u.strip() for u in urls if u.strip() and not u.strip().startswith("#"))
    )
    if len(lines) > MAX_URLS:
        raise InvalidInput(
            f"{len(lines)} URLs at once; at most {MAX_URLS}: split the list",
            details={"count": len(lines), "max": MAX_URLS},
        )
    results: list[Any] = []
    for line in lines:
        try:
            with transaction.atomic():
                results.append(capture_submit(url=line, by=by, via=via, nudge=nudge))
        except AttritionError as exc:
            exc.details.setdefault("line", line)
            results.append(exc)
    return results


def capture_upload(
    *,
    fh: IO[bytes],
    name: str,
    by: Any = None,
    via: str = "",
    evidence: Evidence | None = None,
    nudge: bool = True,
) -> CaptureJob:
    """Store an uploaded file as it came and queue its capture job, as evidence of its own."""
    limit = config.UPLOAD_MAX_BYTES.read()
    with workspace("upload") as scratch, (scratch / "upload.part").open("w+b") as tmp:
        digest, size = hashlib.sha256(), 0
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise InvalidInput(
                    f"{name or 'the upload'} is larger than the {limit:,}-byte limit "
                    "(ATTRITION_UPLOAD_MAX_BYTES); nothing was stored"
                )
            digest.update(chunk)
            tmp.write(chunk)
        tmp.flush()
        if size == 0:
            raise InvalidInput(f"{name or 'the upload'} is empty; nothing was stored")
        sha256 = digest.hexdigest()
        store.run(path=scratch / "upload.part", sha256=sha256, size=size)
    with transaction.atomic():
        if evidence is None:
            evidence = Evidence.objects.create(
                platform=Platform.UPLOAD,
                title=name[:500],
                added_by=by if getattr(by, "is_authenticated", False) else None,
            )
            history.record_version(evidence, by=by, kind=ChangeKind.CREATE, via=via)
        job = CaptureJob.objects.create(
            evidence=evidence,
            upload_sha256=sha256,
            upload_name=name[:255],
            submitted_by=by if getattr(by, "is_authenticated", False) else None,
            via=via,
            next_attempt_at=timezone.now(),
        )
        if nudge:
            transaction.on_commit(lambda: enqueue(JOB, job_id=job.pk))
    return job


def job_get(job_id: int) -> CaptureJob:
    """Return a capture job, or raise NotFound."""
    try:
        return CaptureJob.objects.select_related("evidence").get(pk=job_id)
    except CaptureJob.DoesNotExist:
        raise NotFound(f"no capture job #{job_id}") from None


def job_claim(job_id: int, *, now: dt.datetime | None = None) -> CaptureJob | None:
    """Take a due or abandoned job for this worker; None if it is done, running or not due."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=config.CAPTURE_LEASE_S.read())
    due = Q(state=CaptureJob.State.QUEUED, next_attempt_at__lte=now)
    abandoned = Q(state=CaptureJob.State.RUNNING, lease_until__lt=now)
    claimed = CaptureJob.objects.filter(due | abandoned, pk=job_id).update(
        state=CaptureJob.State.RUNNING,
        lease_until=now + lease,
        worker=worker_name(),
        updated_at=now,
    )
    if not claimed:
        return None
    job = job_get(job_id)
    job.attempts += 1
    job.save(update_fields=["attempts"])
    return job


def job_step_record(job: CaptureJob, outcome: dict[str, Any]) -> None:
    """Append one step's outcome to the job, visible at once to anyone watching it."""
    job.steps = [*job.steps, outcome]
    CaptureJob.objects.filter(pk=job.pk).update(steps=job.steps, updated_at=timezone.now())


def job_finish(job: CaptureJob, *, error: AttritionError | None = None) -> None:
    """End a job done, or failed with the error that stopped it."""
    job.state = CaptureJob.State.FAILED if error else CaptureJob.State.DONE
    job.error_code = error.code if error else ""
    job.error_message = error.message if error else ""
    job.finished_at = timezone.now()
    job.lease_until = None
    job.save(
        update_fields=[
            "state",
            "error_code",
            "error_message",
            "finished_at",
            "lease_until",
            "updated_at",
        ]
    )


def job_retry_later(job: CaptureJob, *, error: AttritionError) -> float | None:
    """Put a job back in the queue with backoff and return the delay, or fail it if spent."""
    if job.attempts >= config.CAPTURE_MAX_ATTEMPTS.read():
        job_finish(job, error=error)
        return None
    delay = float(RETRY_BASE_S * RETRY_FACTOR ** (job.attempts - 1))
    job.state = CaptureJob.State.QUEUED
    job.error_code, job.error_message = error.code, error.message
    job.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
    job.lease_until = None
    job.save(
        update_fields=[
            "state",
            "error_code",
            "error_message",
            "next_attempt_at",
            "lease_until",
            "updated_at",
        ]
    )
    return delay


def jobs_recover(*, now: dt.datetime | None = None, grace_s: float = 0) -> list[int]:
    """Return the ids of jobs to nudge again: due and not touched for `grace_s`, or abandoned.

    A running job's lease is cut short when it names a process on this host that no longer
    exists, so a restarted worker takes up what its predecessor was doing at once. Nudged jobs
    are touched, so a backlog is not nudged again before another `grace_s` has passed.
    """
    now = now or timezone.now()
    host = socket.gethostname()
    for job in CaptureJob.objects.filter(
        state=CaptureJob.State.RUNNING, worker__startswith=f"{host}:", lease_until__gte=now
    ).only("pk", "worker"):
        pid = int(job.worker.rpartition(":")[2] or 0)
        if pid and pid != os.getpid() and not pid_alive(pid):
            CaptureJob.objects.filter(pk=job.pk, worker=job.worker).update(lease_until=now)
    stale = now - dt.timedelta(seconds=grace_s)
    due = Q(state=CaptureJob.State.QUEUED, next_attempt_at__lte=stale, updated_at__lte=stale)
    abandoned = Q(state=CaptureJob.State.RUNNING, lease_until__lte=now)
    ids = list(CaptureJob.objects.filter(due | abandoned).values_list("pk", flat=True))
    CaptureJob.objects.filter(pk__in=ids, state=CaptureJob.State.QUEUED).update(updated_at=now)
    return ids


def pid_alive(pid: int) -> bool:
    """Return whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
