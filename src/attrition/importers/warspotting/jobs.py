"""The WarSpotting sync as jobs: on demand, every day (new days) and every week (all days).

The scheduled syncs run only when ATTRITION_WARSPOTTING_URL names the API's base URL.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from attrition import config
from attrition.importers.registry import ImportOptions
from attrition.jobs import job

log = logging.getLogger(__name__)


def scheduled_sync(*, full: bool) -> dict[str, int]:
    """Sync from ATTRITION_WARSPOTTING_URL if it is set; return the import's counts."""
    from attrition.importers.warspotting.sync import warspotting_sync

    base_url = config.WARSPOTTING_URL.read()
    if not base_url:
        return {"skipped": 1}
    result = warspotting_sync(base_url=base_url, options=ImportOptions(), full=full)
    log.info("WarSpotting sync from %s: %s", base_url, result.report.counts())
    return {**result.report.counts(), "days": result.days, "requests": result.requests}


@job("importers.warspotting.sync", retries=0)
def warspotting_sync_job(full: bool = False) -> dict[str, int]:
    """Sync from ATTRITION_WARSPOTTING_URL now (all days if `full`)."""
    return scheduled_sync(full=full)


@db_periodic_task(crontab(hour="2", minute="37"), name="importers.warspotting.daily")
def warspotting_daily() -> dict[str, int]:
    """Every day, fetch the days since the last sync."""
    return scheduled_sync(full=False)


@db_periodic_task(
    crontab(day_of_week="0", hour="3", minute="47"), name="importers.warspotting.weekly"
)
def warspotting_weekly() -> dict[str, int]:
    """Every Sunday, fetch every day and mark the records WarSpotting no longer lists."""
    return scheduled_sync(full=True)
