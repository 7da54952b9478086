"""Jobs of the importers: apply an import run confirmed in the admin; the WarSpotting syncs.

Huey's Django integration imports only `tasks` modules, so the jobs declared beside an
importer (warspotting/jobs.py) are imported here.
"""

from __future__ import annotations

from attrition.importers.runs import JOB, import_run_execute
from attrition.importers.warspotting import jobs as warspotting_jobs  # noqa: F401
from attrition.jobs import job


@job(JOB, retries=0)
def import_run_job(run_id: int) -> str:
    """Apply the queued import run `run_id`; return the state it ended in."""
    run = import_run_execute(run_id=run_id)
    return run.state if run is not None else "skipped"
