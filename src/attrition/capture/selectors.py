"""Reads of capture jobs: who may follow which job."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from attrition.capture.models import CaptureJob
from attrition.errors import NotFound
from attrition.evidence.models import CustodyRecord


def sees_all(user: Any) -> bool:
    """Return whether the user may see everyone's capture jobs (reviewers and admins)."""
    return bool(getattr(user, "is_reviewer", False) or getattr(user, "is_superuser", False))


def jobs_visible(user: Any, *, everyone: bool = False) -> QuerySet[CaptureJob]:
    """Return the user's own jobs, or every job when `everyone` is asked by a reviewer."""
    jobs = (
        CaptureJob.objects.select_related("evidence")
        .prefetch_related(
            Prefetch("custody", queryset=CustodyRecord.objects.select_related("capture"))
        )
        .order_by("-created_at", "-pk")
    )
    return jobs if everyone and sees_all(user) else jobs.filter(submitted_by=user)


def job_visible(user: Any, job_id: int) -> CaptureJob:
    """Return a job the user may follow, or raise NotFound (another's job is not disclosed)."""
    found = jobs_visible(user, everyone=True).filter(pk=job_id).first()
    if found is None:
        raise NotFound(f"no capture job #{job_id}")
    return found
