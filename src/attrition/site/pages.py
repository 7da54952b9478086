"""Public pages for readers: a conflict's overview, search, a model's losses, the map of losses,
charts over time. Thin: the filter, counts and pages come from losses.selectors."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from attrition import config
from attrition.catalog.models import Category, Conflict, EquipmentModel
from attrition.errors import InvalidInput
from attrition.losses.choices import FATE_ORDER
from attrition.losses.selectors import (
    DEFAULT_SORT,
    LossFilter,
    ledger_changed_at,
    ledger_changes,
    losses_filter,
    losses_page,
    losses_stats,
    public_ledger,
)
from attrition.losses.tally import tally_count
from attrition.site.filters import filter_form

PAGE_SIZE = 50
CHANGE_PERIODS = [
    ("since yesterday", dt.timedelta(days=1)),
    ("in the last week", dt.timedelta(days=7)),
]
SPLITS = ("fate", "category", "side")


def _conflict(slug: str) -> Conflict:
    return get_object_or_404(
        Conflict.objects.select_related("boundary_set"), slug=slug, is_public=True
    )


def _fate_cells(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(f.value, counts.get(f.value, 0)) for f in FATE_ORDER]


@require_safe
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a conflict's headline totals per side, by category and fate, and what changed lately."""
    conflict = _conflict(slug)
    # The default counting rule counts exactly the public ledger of a public conflict; one
    # grouped count serves the table and the "what changed" corrections.
    current = tally_count(conflict=conflict)
    categories = {c.pk: c for c in Category.objects.all()}
    table: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for (side_id, category_id, fate), n in current.by_side_category_fate.items():
        table[side_id][category_id][fate] = n
    sides = []
    for side in conflict.sides.all():
        rows = []
        by_fate: dict[str, int] = defaultdict(int)
        for category_id, counts in table.get(side.pk, {}).items():
            for fate, n in counts.items():
                by_fate[fate] += n
            rows.append((categories[category_id], sum(counts.values()), _fate_cells(counts)))
        rows.sort(key=lambda r: (r[0].order, r[0].name))
        total = sum(by_fate.values())
        sides.append(
            {
                "side": side,
                "total": total,
                "fates": _fate_cells(by_fate),
                "rows": rows,
                "list_url": f"{reverse('site:search')}?conflict={conflict.slug}&side={side.slug}",
            }
        )
    changes = ledger_changes(
        conflict=conflict, now=timezone.now(), periods=CHANGE_PERIODS, current=current
    )
    context = {
        "conflict": conflict,
        "sides": sides,
        "total": current.total,
        "changes": changes,
        "as_of": ledger_changed_at(),
        "fates": [f.value for f in FATE_ORDER],
    }
    return render(request, "site/overview.html", context)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """List the public losses a filter selects, a page at a time; htmx swaps only the results."""
    error = ""
    sort = request.GET.get("sort", DEFAULT_SORT)
    try:
        filters = LossFilter.from_query(request.GET)
        queryset = (
            losses_filter(filters=filters)
            .select_related("conflict", "side", "model__category", "admin_unit")
            .defer("admin_unit__geometry")  # a large JSON outline, not shown
        )
        found = losses_page(
            queryset=queryset, sort=sort, cursor=request.GET.get("cursor", ""), limit=PAGE_SIZE
        )
        count = queryset.count()
    except InvalidInput as exc:
        filters, found, count, error = LossFilter(), None, 0, exc.message
        sort = DEFAULT_SORT
    form = filter_form(filters, sort)
    context = {"form": form, "page": found, "count": count, "error": error}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "site/_results.html", context, status=400 if error else 200)
    return render(request, "site/search.html", context, status=400 if error else 200)


@require_safe
def model_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show every public loss of one equipment model: first and last seen, by fate and side."""
    model = get_object_or_404(EquipmentModel.objects.select_related("category"), slug=slug)
    queryset = public_ledger().filter(model=model)
    by_fate = {
        row.key["fate"]: row.count for row in losses_stats(queryset=queryset, by=["fate"]).rows
    }
    by_side = losses_stats(queryset=queryset, by=["side"])
    dated = queryset.filter(first_seen__isnull=False).order_by("first_seen")
    first, last = dated.first(), dated.last()
    losses = list(
        queryset.select_related("conflict", "side", "admin_unit")
        .defer("admin_unit__geometry")
        .order_by("first_seen", "id")[:500]
    )
    context = {
        "model": model,
        "total": sum(by_fate.values()),
        "fates": [(f, by_fate.get(f, 0)) for f in (x.value for x in FATE_ORDER)],
        "sides": [
            (by_side.labels["side"].get(r.key["side"] or "", "?"), r.count) for r in by_side.rows
        ],
        "first": first,
        "last": last,
        "losses": losses,
        "search_url": f"{reverse('site:search')}?model={model.slug}",
    }
    return render(request, "site/model.html", context)


@require_safe
def map_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a conflict's losses as points, and their counts per province and district."""
    conflict = _conflict(slug)
    filters = _filters_of(request, conflict)
    queryset = losses_filter(filters=filters)
    by_district = losses_stats(queryset=queryset, by=["district"])
    by_province = losses_stats(queryset=queryset, by=["province"])
    query = filter_form(filters).query()
    cfg: dict[str, Any] = {
        "points": f"/api/v1/exports/losses.geojson?{query}",
        "outlines": reverse("territory:geometry", args=[slug]) if conflict.boundary_set else "",
        "districts": {r.key["district"]: r.count for r in by_district.rows if r.key["district"]},
        "tileUrl": config.MAP_TILE_URL.read(),
        "tileAttribution": config.MAP_TILE_ATTRIBUTION.read(),
        "attribution": conflict.boundary_set.attribution if conflict.boundary_set else "",
        "extent": conflict.extent,
        "colours": {s.slug: s.colour for s in conflict.sides.all()},
    }
    context = {
        "conflict": conflict,
        "config": cfg,
        "provinces": [
            (r.key["province"], by_province.labels["province"].get(r.key["province"], "?"), r.count)
            for r in by_province.rows
            if r.key["province"]
        ],
        "total": by_province.total,
        "unplaced": next((r.count for r in by_province.rows if r.key["province"] is None), 0),
        "query": query,
    }
    return render(request, "site/map.html", context)


@require_safe
def charts_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show losses per day, week or month and their running total, split by fate or category."""
    conflict = _conflict(slug)
    period = request.GET.get("period", "month")
    split = request.GET.get("split", "fate")
    if period not in ("day", "week", "month") or split not in SPLITS:
        raise Http404("no such chart")
    filters = _filters_of(request, conflict)
    stats = losses_stats(
        queryset=losses_filter(filters=filters), by=["period", split], period=period
    )
    periods = sorted({r.key["period"] for r in stats.rows if r.key["period"]})
    groups = sorted({r.key[split] or "" for r in stats.rows})
    counts = {(r.key["period"], r.key[split] or ""): r.count for r in stats.rows}
    labels = stats.labels.get(split, {})
    series = [
        {"label": labels.get(g, g) or "unknown", "data": [counts.get((p, g), 0) for p in periods]}
        for g in groups
    ]
    running, cumulative = 0, []
    for p in periods:
        running += sum(counts.get((p, g), 0) for g in groups)
        cumulative.append(running)
    undated = sum(r.count for r in stats.rows if not r.key["period"])
    context = {
        "conflict": conflict,
        "period": period,
        "split": split,
        "splits": SPLITS,
        "undated": undated,
        "total": stats.total,
        "chart": {"periods": periods, "series": series, "cumulative": cumulative},
        "query": filter_form(filters).query(),
    }
    return render(request, "site/charts.html", context)


def _filters_of(request: HttpRequest, conflict: Conflict) -> LossFilter:
    """Return the page's filter, always within the conflict; a bad filter is a 404 here."""
    query = {k: request.GET.getlist(k) for k in request.GET}
    query["conflict"] = [conflict.slug]
    try:
        return LossFilter.from_query(query)
    except InvalidInput as exc:
        raise Http404(exc.message) from None
