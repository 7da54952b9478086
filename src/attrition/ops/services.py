"""Writes for operations: retry a capture job that failed for good, through the capture services."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction

from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_submit, capture_upload, job_get
from attrition.capture.steps import store
from attrition.errors import InvalidInput, NotFound

VIA = "retry"


def capture_job_retry(*, job_id: int, by: Any) -> CaptureJob:
    """Queue a new capture of what a failed job was archiving (same evidence); return its job.

    The failed job stays as it was, as the record of what went wrong.
    """
    job = job_get(job_id)
    if job.state != CaptureJob.State.FAILED:
        raise InvalidInput(f"capture job #{job.pk} is {job.state}, not failed: nothing to retry")
    if job.url:
        with transaction.atomic():
            return capture_submit(url=job.url, by=by, via=VIA, evidence=job.evidence)
    key = store.key_for(job.upload_sha256)
    if not default_storage.exists(key):
        raise NotFound(f"the uploaded file of capture job #{job.pk} is no longer stored")
    with default_storage.open(key, "rb") as fh:
        return capture_upload(fh=fh, name=job.upload_name, by=by, via=VIA, evidence=job.evidence)
