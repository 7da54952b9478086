"""Operations pages: `/healthz`, `/metrics`, and failed capture jobs with a retry button (admins).

Thin: the reads are in `ops.selectors`, the retry in `ops.services`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from attrition import config
from attrition.accounts.models import Role
from attrition.capture.models import CaptureJob
from attrition.errors import AttritionError
from attrition.ops.selectors import health, metrics_text
from attrition.ops.services import capture_job_retry

PER_PAGE = 50
ADMINS_ONLY = "Only admins may see and retry failed jobs."
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

View = Callable[..., HttpResponseBase]


def admins_only(view: View) -> View:
    """Send anonymous visitors to log in, and refuse everyone who is not an admin (403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user: Any = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_superuser or getattr(user, "role", None) == Role.ADMIN):
            return HttpResponseForbidden(ADMINS_ONLY)
        return view(request, *args, **kwargs)

    return wrapped


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the job queue answer, else 503; JSON either way."""
    report = health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Return the metrics in Prometheus' text format (behind ATTRITION_METRICS_TOKEN if set)."""
    token = config.METRICS_TOKEN.read()
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(
                "metrics need the bearer token (ATTRITION_METRICS_TOKEN)\n",
                status=401,
                content_type="text/plain; charset=utf-8",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return HttpResponse(metrics_text(), content_type=PROMETHEUS_TEXT)


@require_safe
@admins_only
def failed_jobs(request: HttpRequest) -> HttpResponse:
    """List the capture jobs that failed for good, newest first, each with a retry button."""
    jobs = (
        CaptureJob.objects.filter(state=CaptureJob.State.FAILED)
        .select_related("evidence", "submitted_by")
        .order_by("-finished_at", "-pk")
    )
    page = Paginator(jobs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "ops/failed_jobs.html", {"page": page, "total": jobs.count()})


@require_POST
@admins_only
def job_retry(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Queue a new capture of a failed job's URL or upload, and go back to the list."""
    try:
        job = capture_job_retry(job_id=pk, by=request.user)
    except AttritionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"capture job #{pk} retried as job #{job.pk} ({job.state})")
    return redirect("ops:failed_jobs")
