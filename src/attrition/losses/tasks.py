"""Jobs of the losses app: open-data snapshots of the public ledger."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from attrition.jobs import job
from attrition.losses.snapshots import snapshot_refresh


@job("losses.snapshot")
def snapshot_job(force: bool = False) -> dict[str, int]:
    """Rewrite the CSV and JSON downloads of the public ledger if it changed."""
    return snapshot_refresh(force=force)


@db_periodic_task(crontab(minute="*/10"), name="losses.snapshot.periodic")
def snapshot_periodic() -> dict[str, int]:
    """Refresh the downloads every ten minutes when the ledger has changed."""
    return snapshot_refresh(force=False)
