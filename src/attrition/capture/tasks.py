"""Jobs of the capture pipeline: run a capture job, and take up jobs a dead worker left."""

from __future__ import annotations

import logging

from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from attrition.capture import pipeline, services
from attrition.capture.workspace import incoming_sweep, workspaces_sweep
from attrition.jobs import enqueue, job

log = logging.getLogger(__name__)


@job(services.JOB, retries=0)
def capture_run(job_id: int) -> str:
    """Run one capture job (the database says whether it is still due)."""
    return pipeline.job_run(job_id)


# A due job untouched this long has lost its nudge (or waits behind a long queue: one more
# nudge is harmless, the claim lets only one through).
GRACE_S = 120


def recover(*, grace_s: float = GRACE_S) -> list[int]:
    """Nudge every capture job that is due or was left by a dead worker; return their ids."""
    ids = services.jobs_recover(grace_s=grace_s)
    for job_id in ids:
        enqueue(services.JOB, job_id=job_id)
    if ids:
        log.info("capture: took up %d waiting or abandoned job(s): %s", len(ids), ids)
    return ids


@db_periodic_task(crontab(minute="*"), name="capture.recover.periodic")
def recover_periodic() -> list[int]:
    """Every minute, take up capture jobs whose nudge was lost or whose worker died."""
    return recover()


@db_periodic_task(crontab(minute="41"), name="capture.sweep.periodic")
def sweep_periodic() -> int:
    """Every hour, remove scratch files and partial uploads that stopped workers left."""
    return len(workspaces_sweep()) + len(incoming_sweep())


@HUEY.on_startup()
def recover_on_startup() -> None:
    """When a worker starts, take up at once what a stopped worker on this host left running."""
    close_old_connections()
    try:
        workspaces_sweep()
        incoming_sweep()
        recover(grace_s=0)
    finally:
        close_old_connections()
