"""Pages where contributors submit URLs and files for capture and watch the jobs run.

Thin: submissions go through `capture.services`. A job is shown to whoever submitted it, and to
reviewers and admins; anonymous readers are sent to the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_safe

from attrition import config
from attrition.accounts.models import User
from attrition.capture.models import CaptureJob
from attrition.capture.selectors import jobs_visible, sees_all
from attrition.capture.services import capture_submit_many, capture_upload
from attrition.errors import AttritionError

PER_PAGE = 50
MAX_ID_PARTS = 2000
MAX_ID = 2**63 - 1

View = Callable[..., HttpResponseBase]


def members_only(view: View) -> View:
    """Require a login; tell an htmx poll whose session has ended to reload its page and log in."""
    guarded = login_required(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.headers.get("HX-Request") and not request.user.is_authenticated:
            return HttpResponse(status=401, headers={"HX-Refresh": "true"})
        return guarded(request, *args, **kwargs)

    return wrapped


def user_of(request: HttpRequest) -> User:
    """Return the logged-in user of a request that `members_only` let through."""
    user = request.user
    assert isinstance(user, User)
    return user


def ids_text(ids: list[int]) -> str:
    """Return job ids as "3,5-9,12", consecutive runs folded, to keep a big batch's link short."""
    runs: list[list[int]] = []
    for n in sorted(set(ids)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def ids_filter(raw: str) -> Q:
    """Return a filter for ids written as "3,5-9,12"; parts that are not ids match nothing."""
    singles: list[int] = []
    ranges: list[tuple[int, int]] = []
    for part in raw.split(",")[:MAX_ID_PARTS]:
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            continue
        if not 0 < low <= high <= MAX_ID:
            continue
        if dash:
            ranges.append((low, high))
        else:
            singles.append(low)
    q = Q(pk__in=singles)
    for low, high in ranges:
        q |= Q(pk__range=(low, high))
    return q


def form_page(
    request: HttpRequest, *, text: str = "", errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    """Render the submit form, with what was typed and why it was refused."""
    context = {
        "urls_text": text,
        "errors": errors or [],
        "upload_max_bytes": config.UPLOAD_MAX_BYTES.read(),
    }
    return render(request, "capture/submit.html", context, status=status)


@members_only
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request: HttpRequest) -> HttpResponseBase:
    """Show the submit form; on POST queue a capture per URL line and per file, then list them."""
    if request.method != "POST":
        return form_page(request)
    user = user_of(request)
    text = request.POST.get("urls", "")
    jobs: list[CaptureJob] = []
    refused: list[str] = []
    if text.strip():
        try:
            results = capture_submit_many(urls=text.splitlines(), by=user, via="web")
        except AttritionError as exc:
            results = [exc]
        for result in results:
            if isinstance(result, CaptureJob):
                jobs.append(result)
            else:
                line = str(result.details.get("line", ""))
                shown = line if len(line) <= 80 else line[:77] + "..."
                named = bool(line) and line not in result.message
                refused.append(f"{shown}: {result.message}" if named else result.message)
    for upload in request.FILES.getlist("files"):
        try:
            jobs.append(capture_upload(fh=upload, name=upload.name or "", by=user, via="web"))
        except AttritionError as exc:
            refused.append(exc.message)
    if not jobs:
        refused = refused or ["Paste at least one URL or choose a file."]
        return form_page(request, text=text, errors=refused, status=400)
    for message in refused:
        messages.error(request, message)
    for job in jobs:
        if job.submitted_by_id != user.pk:
            messages.info(
                request,
                f"{job.url or job.upload_name} was already being captured for someone else; "
                "its evidence will have the captures.",
            )
    return redirect(f"{reverse('capture:jobs')}?ids={ids_text([job.pk for job in jobs])}")


@members_only
@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    """List the user's capture jobs, newest first; an htmx poll gets only the list."""
    user = user_of(request)
    everyone = request.GET.get("all") == "1" and sees_all(user)
    jobs = jobs_visible(user, everyone=everyone)
    ids = request.GET.get("ids", "")
    if ids:
        jobs = jobs.filter(ids_filter(ids))
    page = Paginator(jobs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "jobs": page.object_list,
        "ids": ids,
        "everyone": everyone,
        "can_see_all": sees_all(user),
        "polling": any(not job.is_finished for job in page.object_list),
    }
    partial = bool(request.headers.get("HX-Request"))
    response = render(request, "capture/_jobs.html" if partial else "capture/jobs.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@members_only
@require_safe
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one capture job with its steps and captures."""
    job = get_object_or_404(jobs_visible(user_of(request), everyone=True), pk=pk)
    return render(request, "capture/job.html", {"job": job, "polling": not job.is_finished})


@members_only
@require_safe
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the live part of a job's page, which polls itself until the job has finished."""
    job = get_object_or_404(jobs_visible(user_of(request), everyone=True), pk=pk)
    return render(request, "capture/_status.html", {"job": job, "polling": not job.is_finished})
