"""Public pages. Thin: they read through selectors and render; readers see verified records only."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from attrition import config
from attrition.catalog.models import Conflict
from attrition.evidence.visibility import public_media
from attrition.jobs import enqueue
from attrition.losses.choices import ReviewStatus
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Loss
from attrition.losses.selectors import (
    conflict_ledger,
    loss_public_history,
    loss_related,
)
from attrition.losses.snapshots import DOWNLOADS, snapshot_manifest, snapshot_name
from attrition.losses.tally import tally_count


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """List the public conflicts with their documented totals."""
    conflicts = [
        (conflict, tally_count(conflict=conflict).total)
        for conflict in Conflict.objects.filter(is_public=True)
    ]
    return render(request, "site/home.html", {"conflicts": conflicts})


@require_safe
def conflict_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a conflict's ledger in the form trackers use, computed from verified losses."""
    conflict = get_object_or_404(
        Conflict.objects.select_related("boundary_set"), slug=slug, is_public=True
    )
    ledger = conflict_ledger(conflict=conflict)
    return render(request, "site/conflict.html", {"conflict": conflict, "ledger": ledger})


@require_safe
def loss_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one verified loss with its fate history, place and evidence."""
    loss = get_object_or_404(
        Loss.objects.select_related(
            "conflict",
            "conflict__boundary_set",
            "side",
            "model",
            "model__category",
            "captured_by",
            "admin_unit",
            "admin_unit__parent",
            "merged_into",
        ).defer("admin_unit__geometry", "admin_unit__parent__geometry"),
        pk=pk,
        deleted_at__isnull=True,
        conflict__is_public=True,
    )
    if loss.status == ReviewStatus.MERGED and loss.merged_into is not None:
        return redirect("site:loss", pk=loss.merged_into_id, permanent=True)
    if loss.status != ReviewStatus.VERIFIED:
        raise Http404("no such loss")
    depictions = (
        loss.depictions.filter(deleted_at__isnull=True, evidence__deleted_at__isnull=True)
        .select_related("evidence", "capture")
        .order_by("evidence__posted_at", "evidence_id")
    )
    media = public_media(depictions)
    context = {
        "loss": loss,
        "fate_text": fate_history_text(loss.fate_history),
        "depictions": [(d, media.get(d.pk, [])) for d in depictions],
        "tags": loss.tags.all(),
        "related": loss_related(loss=loss),
        "map": _place_map(loss),
    }
    return render(request, "site/loss.html", context)


def _place_map(loss: Loss) -> dict[str, Any] | None:
    """Return the small map's settings: the point, or the place's outline; None if unplaced."""
    unit = loss.admin_unit
    if loss.lat is None and unit is None:
        return None
    conflict = loss.conflict
    return {
        "point": [loss.lat, loss.lon] if loss.lat is not None else None,
        "unit": unit.code if unit is not None else None,
        # The outlines are districts: a province is drawn as the districts in it.
        "province": unit.name if unit is not None and unit.level == unit.Level.PROVINCE else None,
        "label": [unit.label_lat, unit.label_lon] if unit and unit.label_lat is not None else None,
        "outlines": reverse("territory:geometry", args=[conflict.slug])
        if conflict.boundary_set_id
        else "",
        "tileUrl": config.MAP_TILE_URL.read(),
        "tileAttribution": config.MAP_TILE_ATTRIBUTION.read(),
        "attribution": conflict.boundary_set.attribution if conflict.boundary_set else "",
        "colour": loss.side.colour,
    }


@require_safe
def loss_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what changed in a verified loss since it was published, field by field; a loss
    merged into another keeps its page of history, ending on the merge."""
    loss = get_object_or_404(
        Loss.objects.select_related("model", "side", "conflict"),
        pk=pk,
        deleted_at__isnull=True,
        conflict__is_public=True,
        status__in=[ReviewStatus.VERIFIED, ReviewStatus.MERGED],
    )
    entries = loss_public_history(loss=loss)
    if loss.status == ReviewStatus.MERGED and not entries:  # merged before it was ever public
        return redirect("site:loss_history", pk=loss.merged_into_id)
    context = {"loss": loss, "entries": entries}
    return render(request, "site/loss_history.html", context)


@require_safe
def data_page(request: HttpRequest) -> HttpResponse:
    """List the open-data downloads of the public ledger and what each holds."""
    return render(request, "site/data.html", {"manifest": snapshot_manifest()})


@require_safe
def data_download(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Serve the latest CSV, JSON or zip snapshot; if none is ready, queue one and say so."""
    if fmt not in DOWNLOADS:
        raise Http404("no such download")
    name = snapshot_name(fmt)
    if not default_storage.exists(name):
        enqueue("losses.snapshot")
        response = HttpResponse(
            "The download is being prepared; try again in a minute.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "60"
        return response
    content_type = {"csv": "text/csv; charset=utf-8", "zip": "application/zip"}.get(
        fmt, "application/json"
    )
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename="attrition-snapshot.zip" if fmt == "zip" else f"attrition-losses.{fmt}",
        content_type=content_type,
    )
