"""Public territory pages: the control map of a conflict with its date slider, the data the map
fetches as the slider moves, and one unit's timeline. Thin: selectors decide, templates show."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from django.views.decorators.http import require_safe

from attrition import config
from attrition.catalog.models import Conflict
from attrition.territory import selectors
from attrition.territory.geo import map_features, status_properties

STATUS_COLOURS = {
    "government": "#1f5fa8",
    "contested": "#e0a526",
    "insurgent": "#b8322a",
    "claimed": "#e58f86",
    "unknown": "#d9d9d9",
}


def _conflict(slug: str) -> Conflict:
    found = (
        Conflict.objects.filter(slug=slug, is_public=True, boundary_set__isnull=False)
        .select_related("boundary_set")
        .first()
    )
    if found is None:
        raise Http404("no such conflict with a map")
    return found


def _date(request: HttpRequest, conflict: Conflict) -> dt.date:
    text = request.GET.get("date", "")
    if not text:
        return selectors.default_date(conflict)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Http404("dates are written YYYY-MM-DD") from None


def _parts(by_status: dict[str, Any], whole: float) -> list[dict[str, Any]]:
    """Return a bar's parts: status, label, colour, value and percent of the whole."""
    return [
        {
            "status": status,
            "label": selectors.STATUS_LABELS[status],
            "colour": STATUS_COLOURS[status],
            "value": value,
            "pct": round(100 * value / whole, 2) if whole else 0,
        }
        for status, value in by_status.items()
    ]


def _border(share: selectors.BorderShare) -> dict[str, Any]:
    return {"share": share, "parts": _parts(share.by_status_km, share.total_km)}


def _summary(conflict: Conflict, on: dt.date) -> dict[str, Any]:
    """Return what the panel beside the map shows for a date."""
    statuses = selectors.status_on(conflict, on)
    counts = selectors.counts_of(statuses, on)
    return {
        "conflict": conflict,
        "on": on,
        "statuses": statuses,
        "counts": counts,
        "count_parts": _parts(counts.by_status, counts.total),
        "borders": [_border(b) for b in selectors.border_shares(conflict, on, statuses=statuses)],
        "stale_days": selectors.STALE_AFTER_DAYS,
    }


def _chart(history: list[tuple[dt.date, list[selectors.BorderShare]]]) -> list[dict[str, Any]]:
    """Return, per border, one bar of its shares per date: the border chart over time."""
    rows: dict[str, dict[str, Any]] = {}
    for on, shares in history:
        for share in shares:
            row = rows.setdefault(
                share.country, {"name": share.name, "km": share.total_km, "bars": []}
            )
            row["bars"].append({"on": on, "parts": _parts(share.by_status_km, share.total_km)})
    return list(rows.values())


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """List the public conflicts that have a map."""
    conflicts = Conflict.objects.filter(is_public=True, boundary_set__isnull=False)
    return render(request, "territory/index.html", {"conflicts": conflicts})


@require_safe
def map_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the choropleth of control on a date, its slider, counts and border shares."""
    conflict = _conflict(slug)
    on = _date(request, conflict)
    start, end = selectors.period_of(conflict)
    start, end = min(start, on), max(end, on)
    context = _summary(conflict, on)
    history = selectors.border_shares_over_time(conflict, selectors.frame_dates(start, end))
    context.update(
        start=start,
        end=end,
        days=(end - start).days,
        position=(on - start).days,
        chart=_chart(history),
        colours=STATUS_COLOURS,
        labels=selectors.STATUS_LABELS,
        provinces=selectors.province_rollup(conflict, on),
        config={
            "start": start.isoformat(),
            "date": on.isoformat(),
            "days": (end - start).days,
            "geometry": reverse("territory:geometry", args=[conflict.slug]),
            "status": reverse("territory:status", args=[conflict.slug]),
            "unit": reverse("territory:unit", args=[conflict.slug, "CODE"]),
            "colours": STATUS_COLOURS,
            "labels": selectors.STATUS_LABELS,
            "tileUrl": config.MAP_TILE_URL.read(),
            "tileAttribution": config.MAP_TILE_ATTRIBUTION.read(),
            "attribution": conflict.boundary_set.attribution if conflict.boundary_set else "",
            "extent": conflict.extent,
        },
    )
    return render(request, "territory/map.html", context)


@require_safe
def geometry(request: HttpRequest, slug: str) -> HttpResponse:
    """Return the conflict's district outlines (simplified, no status), gzipped when accepted."""
    conflict = _conflict(slug)
    features = map_features(conflict.boundary_set_id or 0)
    body = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    response = HttpResponse(body.encode(), content_type="application/geo+json")
    patch_vary_headers(response, ("Accept-Encoding",))
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.content = compress_string(response.content)
        response["Content-Encoding"] = "gzip"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def status(request: HttpRequest, slug: str) -> JsonResponse:
    """Return every district's status on a date and the panel's HTML, for the map's slider."""
    conflict = _conflict(slug)
    on = _date(request, conflict)
    context = _summary(conflict, on)
    units = {
        unit_id: {
            k: v
            for k, v in status_properties(s).items()
            if k
            in ("status", "status_label", "since", "confirmed", "age_days", "stale", "assessed")
        }
        for unit_id, s in context["statuses"].items()
    }
    panel = render_to_string("territory/_summary.html", context, request=request)
    return JsonResponse({"date": on.isoformat(), "units": units, "panel": panel})


@require_safe
def unit_page(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Show one unit's verified control records, oldest first, with their evidence."""
    conflict = _conflict(slug)
    unit = selectors.unit_lookup(conflict, code)
    if unit is None:
        raise Http404("no such unit on this map")
    on = _date(request, conflict)
    now = selectors.status_on(conflict, on, level=unit.level, units=[unit.pk])[unit.pk]
    context = {
        "conflict": conflict,
        "unit": unit,
        "entries": selectors.unit_history(conflict, unit),
        "now": now,
        "now_label": selectors.STATUS_LABELS[now.status],
        "assessed_label": selectors.STATUS_LABELS.get(now.assessed or "", ""),
        "on": on,
    }
    fragment = request.GET.get("fragment") == "1" or request.headers.get("HX-Request") == "true"
    template = "territory/_timeline.html" if fragment else "territory/unit.html"
    return render(request, template, context)
