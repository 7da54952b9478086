"""API for capture: submit URLs or files for archiving, and follow each capture job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from attrition.accounts.models import Scope
from attrition.api.auth import require_scope
from attrition.capture.models import CaptureJob
from attrition.capture.selectors import job_visible
from attrition.capture.services import capture_submit_many, capture_upload
from attrition.errors import AttritionError

router = Router(tags=["capture"])


class SubmitIn(Schema):
    urls: list[str] = Field(min_length=1, max_length=1000, description="URLs to capture.")


class CaptureOut(Schema):
    sha256: str
    kind: str
    mime: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_s: float | None
    pdq: str
    method: str
    collected_at: datetime


class StepOut(Schema):
    n: int
    step: str
    outcome: str
    ms: int = 0
    detail: str = ""
    error: dict[str, Any] | None = None


class JobOut(Schema):
    id: int
    evidence: int
    url: str
    upload_name: str
    state: str
    attempts: int
    error_code: str
    error_message: str
    created_at: datetime
    finished_at: datetime | None
    steps: list[StepOut]
    captures: list[CaptureOut]


class RefusedOut(Schema):
    line: str
    code: str
    message: str


class SubmittedOut(Schema):
    jobs: list[JobOut]
    refused: list[RefusedOut]


def job_out(job: CaptureJob) -> JobOut:
    """Return a job as the API shows it."""
    records = job.custody.select_related("capture").order_by("pk") if job.pk else []
    return JobOut(
        id=job.pk,
        evidence=job.evidence_id,
        url=job.url,
        upload_name=job.upload_name,
        state=job.state,
        attempts=job.attempts,
        error_code=job.error_code,
        error_message=job.error_message,
        created_at=job.created_at,
        finished_at=job.finished_at,
        steps=[StepOut(**step) for step in job.steps if isinstance(step, dict)],
        captures=[
            CaptureOut(
                sha256=r.capture.sha256,
                kind=r.capture.kind,
                mime=r.capture.mime,
                size_bytes=r.capture.size_bytes,
                width=r.capture.width,
                height=r.capture.height,
                duration_s=r.capture.duration_s,
                pdq=r.capture.pdq,
                method=r.method,
                collected_at=r.collected_at,
            )
            for r in records
        ],
    )


@router.post("", response={201: SubmittedOut}, summary="Capture URLs")
def submit(request: HttpRequest, payload: SubmitIn) -> Status[SubmittedOut]:
    """Queue a capture job per URL; refused URLs are listed with why, the others go ahead."""
    require_scope(request, Scope.WRITE)
    results = capture_submit_many(urls=payload.urls, by=request.user, via="api")
    jobs, refused = [], []
    for result in results:
        if isinstance(result, AttritionError):
            line = str(result.details.get("line", ""))
            refused.append(RefusedOut(line=line, code=result.code, message=result.message))
        else:
            jobs.append(job_out(result))
    return Status(201, SubmittedOut(jobs=jobs, refused=refused))


@router.post("/upload", response={201: SubmittedOut}, summary="Capture uploaded files")
def upload(request: HttpRequest, files: File[list[UploadedFile]]) -> Status[SubmittedOut]:
    """Store each uploaded file as evidence of its own and queue its capture job."""
    require_scope(request, Scope.WRITE)
    jobs, refused = [], []
    for fh in files:
        try:
            jobs.append(
                job_out(capture_upload(fh=fh, name=fh.name or "", by=request.user, via="api"))
            )
        except AttritionError as exc:
            refused.append(RefusedOut(line=fh.name or "", code=exc.code, message=exc.message))
    return Status(201, SubmittedOut(jobs=jobs, refused=refused))


@router.get("/{job_id}", response=JobOut, summary="One capture job")
def job(request: HttpRequest, job_id: int) -> JobOut:
    """Return a capture job with its steps and captures (your own, unless you review)."""
    return job_out(job_visible(request.user, job_id))
