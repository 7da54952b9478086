"""The reviewers' duplicate pages: open candidates, and one pair side by side with its actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from attrition.dedup.decisions import candidate_decide, candidate_get, may_decide
from attrition.dedup.models import LossCandidate
from attrition.dedup.selectors import candidates_listed, pair_view
from attrition.errors import AttritionError

FORBIDDEN = "Only reviewers and admins review duplicates."


@login_required
@require_safe
def candidates(request: HttpRequest) -> HttpResponseBase:
    """List candidate pairs by status, the likeliest first."""
    if not may_decide(request.user):
        return HttpResponseForbidden(FORBIDDEN)
    status = request.GET.get("status", LossCandidate.Status.OPEN)
    if status not in LossCandidate.Status.values:
        status = LossCandidate.Status.OPEN
    page = Paginator(candidates_listed(status), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dedup/candidates.html",
        {"page": page, "status": status, "statuses": LossCandidate.Status.choices},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def candidate(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show a pair side by side; on POST record the reviewer's decision and go to the next."""
    if not may_decide(request.user):
        return HttpResponseForbidden(FORBIDDEN)
    try:
        pair = candidate_get(pk)
    except AttritionError as exc:
        return HttpResponse(exc.message, status=exc.status)
    if request.method == "POST":
        keep = pair.loss_b if request.POST.get("keep") == str(pair.loss_b_id) else pair.loss_a
        try:
            candidate_decide(
                candidate=pair,
                decision=request.POST.get("decision", ""),
                by=request.user,
                reason=request.POST.get("reason", "").strip(),
                keep=keep,
                via="web",
            )
        except AttritionError as exc:
            messages.error(request, exc.message)
            return redirect("dedup:candidate", pk=pk)
        messages.success(request, f"Pair #{pk}: decision recorded.")
        following = candidates_listed().exclude(pk=pk).first()
        return redirect(
            reverse("dedup:candidate", args=[following.pk]) if following else "dedup:candidates"
        )
    return render(request, "dedup/candidate.html", pair_view(pair))
