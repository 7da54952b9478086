"""Jobs of the evidence app: the periodic check of whether sources are still online."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from attrition.evidence.liveness import linkrot_check
from attrition.jobs import job


@job("evidence.linkrot", retries=0)
def linkrot_job() -> dict[str, int]:
    """Check a batch of sources now; return how many were alive, gone, changed or unchecked."""
    return linkrot_check()


@db_periodic_task(crontab(minute="17"), name="evidence.linkrot.periodic")
def linkrot_periodic() -> dict[str, int]:
    """Every hour, check the sources whose last check is oldest."""
    return linkrot_check()
