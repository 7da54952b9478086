"""Contributors' and reviewers' pages: my work, the review queue, and one loss in review.

The pages are thin: every decision is review.workflow's (who may do what) or a losses service's
(merge, revert); a refusal is shown to the user as a message and nothing changes.
"""

from __future__ import annotations

import io
import tempfile
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from attrition.admin_base.roles import role_of
from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.errors import AttritionError
from attrition.losses.choices import ReviewStatus
from attrition.losses.exports import export_losses
from attrition.losses.models import Loss
from attrition.losses.services import loss_merge, loss_revert
from attrition.review import records, selectors, workflow
from attrition.review.workflow import Action

VIA = "web"
EDITORS_ONLY = "These pages are for contributors, reviewers and admins."
REVIEWERS_ONLY = "Only reviewers and admins review records."


def _editor(request: HttpRequest) -> str | None:
    return role_of(request.user)


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponseBase:
    """List the losses the user created, by review status (drafts first)."""
    if _editor(request) is None:
        return HttpResponseForbidden(EDITORS_ONLY)
    status = request.GET.get("status", ReviewStatus.DRAFT)
    if status not in ReviewStatus.values:
        status = ReviewStatus.DRAFT
    kind = request.GET.get("kind", "losses")
    if kind in records.KINDS:
        found = records.mine(kind, request.user, status)
        counts = {s: records.mine(kind, request.user, s).count() for s in ReviewStatus.values}
    else:
        kind = "losses"
        found = selectors.mine(request.user, status)
        counts = selectors.mine_counts(request.user)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    tabs = [(value, label, counts[value]) for value, label in ReviewStatus.choices]
    kinds = [(k, label) for k, label in records.LABELS.items()]
    return render(
        request,
        "review/mine.html",
        {"page": page, "status": status, "tabs": tabs, "kind": kind, "kinds": kinds},
    )


def _tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(kind, records.LABELS[kind], n) for kind, n in counts.items()]


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponseBase:
    """List submitted losses waiting for review, oldest first, with filters."""
    if _editor(request) not in workflow.REVIEWERS:
        return HttpResponseForbidden(REVIEWERS_ONLY)
    kind = request.GET.get("kind", "losses")
    tabs = _tabs(records.waiting_counts())
    if kind in records.KINDS:
        page = Paginator(records.submitted(kind), 50).get_page(request.GET.get("page"))
        return render(
            request, "review/records_queue.html", {"page": page, "kind": kind, "tabs": tabs}
        )
    params = {k: request.GET.get(k, "") for k in selectors.QUEUE_FILTERS}
    page = Paginator(selectors.queue(params), 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in params.items() if v})
    context: dict[str, Any] = {
        "page": page,
        "kind": "losses",
        "tabs": tabs,
        "params": params,
        "query": query,
        "conflicts": Conflict.objects.order_by("name"),
        "sides": Side.objects.select_related("conflict").order_by("conflict__name", "name"),
        "categories": Category.objects.order_by("name"),
        "models": EquipmentModel.objects.filter(
            losses__status=ReviewStatus.SUBMITTED, losses__deleted_at__isnull=True
        )
        .distinct()
        .order_by("name"),
    }
    return render(request, "review/queue.html", context)


def _loss_for(request: HttpRequest, pk: int) -> Loss:
    loss = (
        selectors.losses_visible_to(request.user)
        .select_related("model__category", "side", "conflict", "captured_by", "admin_unit")
        .filter(pk=pk)
        .first()
    )
    if loss is None:
        raise Http404("no such loss, or not one you may open")
    return loss


@login_required
@require_safe
def loss(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show a loss for review: the record, its evidence, duplicate candidates, history, actions."""
    if _editor(request) is None:
        return HttpResponseForbidden(EDITORS_ONLY)
    found = _loss_for(request, pk)
    view = selectors.review_view(found, request.user)
    return render(request, "review/loss.html", {"r": view})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _transition(request: HttpRequest, record: Any) -> bool:
    """Take the posted review action on a record; say how it went; return whether it was done."""
    action = request.POST.get("action", "")
    try:
        workflow.review_transition(
            record=record,
            action=action,
            by=request.user,
            reason=request.POST.get("reason", ""),
            revision=_int(request.POST.get("revision")),
            via=VIA,
        )
    except AttritionError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, f"{record}: {Action(action).label.lower()} — done.")
    return True


def _to_queue(request: HttpRequest) -> bool:
    """Return whether the user asked to go on to the next waiting record, and may."""
    return request.POST.get("next") == "queue" and _editor(request) in workflow.REVIEWERS


@login_required
@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Take a review action on a loss, then go to the next in the queue (or back to the loss)."""
    if _editor(request) is None:
        return HttpResponseForbidden(EDITORS_ONLY)
    if not _transition(request, _loss_for(request, pk)) or not _to_queue(request):
        return redirect("review:loss", pk=pk)
    following = selectors.queue({}).exclude(pk=pk).values_list("pk", flat=True).first()
    if following is not None:
        return redirect("review:loss", pk=following)
    return redirect("review:queue")


@login_required
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Merge this loss into another (reviewers and admins): its evidence moves over."""
    if _editor(request) not in workflow.REVIEWERS:
        return HttpResponseForbidden(REVIEWERS_ONLY)
    found = _loss_for(request, pk)
    into_id = _int(request.POST.get("into", "").lstrip("#").strip())
    target = (
        selectors.losses_visible_to(request.user).filter(pk=into_id).first()
        if into_id is not None
        else None
    )
    if target is None:
        messages.error(request, "Give the number of the loss to merge into, e.g. 1234.")
        return redirect("review:loss", pk=pk)
    try:
        loss_merge(
            loss=found,
            into=target,
            by=request.user,
            reason=request.POST.get("reason", "").strip(),
            via=VIA,
        )
    except AttritionError as exc:
        messages.error(request, f"Not merged: {exc.message}")
        return redirect("review:loss", pk=pk)
    messages.success(request, f"Merged #{found.pk} into #{target.pk}; its evidence moved over.")
    return redirect("review:loss", pk=target.pk)


@login_required
@require_POST
def revert(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Put a loss's content back as one of its versions had it; the revert is a new version."""
    found = _loss_for(request, pk)
    if not workflow.may_edit(request.user, found):
        return HttpResponseForbidden("You may not edit this loss.")
    version = _int(request.POST.get("version"))
    if version is None:
        messages.error(request, "Pick the version to go back to.")
        return redirect("review:loss", pk=pk)
    try:
        loss_revert(
            loss=found,
            version=version,
            by=request.user,
            reason=request.POST.get("reason", "").strip(),
            revision=_int(request.POST.get("revision")),
            via=VIA,
        )
    except AttritionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Loss #{pk} is back to its content of version {version}.")
    return redirect(reverse("review:loss", args=[pk]) + "#history")


@login_required
@require_safe
def export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Download every loss, unpublished ones too, for reviewers and admins (CSV or JSON)."""
    if _editor(request) not in workflow.REVIEWERS:
        return HttpResponseForbidden(
            "Only reviewers and admins export unpublished records; the public data is on the "
            "open data page."
        )
    if fmt not in ("csv", "json"):
        raise Http404("no such format")
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b")  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    export_losses(fmt="csv" if fmt == "csv" else "json", out=text, include_unpublished=True)
    text.flush()
    text.detach()
    spool.seek(0)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = FileResponse(
        spool, as_attachment=True, filename=f"attrition-all-losses.{fmt}", content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def record(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    """Show a claim or control record for review: its fields, evidence, history and actions."""
    if kind not in records.KINDS:
        raise Http404("no such kind of record")
    if _editor(request) is None:
        return HttpResponseForbidden(EDITORS_ONLY)
    found = records.record_get(kind, pk, request.user)
    if found is None:
        raise Http404("no such record, or not one you may open")
    view = records.record_view(kind, found, request.user)
    meta = type(found)._meta
    edit_url = (
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])
        if workflow.may_edit(request.user, found)
        else ""
    )
    return render(
        request,
        "review/record.html",
        {"r": view, "label": records.LABELS[kind], "edit_url": edit_url},
    )


@login_required
@require_POST
def record_act(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    """Take a review action on a claim or control record, then go on to the next waiting one."""
    if _editor(request) is None or kind not in records.KINDS:
        return HttpResponseForbidden(EDITORS_ONLY)
    found = records.record_get(kind, pk, request.user)
    if found is None:
        raise Http404("no such record, or not one you may open")
    if not _transition(request, found) or not _to_queue(request):
        return redirect("review:record", kind=kind, pk=pk)
    following = records.submitted(kind).exclude(pk=pk).values_list("pk", flat=True).first()
    if following is not None:
        return redirect("review:record", kind=kind, pk=following)
    return redirect(reverse("review:queue") + f"?kind={kind}")
