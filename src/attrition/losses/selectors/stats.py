"""Counts of losses grouped by side, category, model, fate, period, province or district."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Coalesce

from attrition.catalog.models import EquipmentModel, Side
from attrition.errors import InvalidInput
from attrition.losses.models import Loss
from attrition.territory.models import AdminUnit

PERIODS = ("day", "week", "month", "year")
# Column orders in which SQLite's indexes hold a conflict's public losses: grouped on these (or
# a prefix), the counts stream from the index, no sort (45 -> 12-15 ms at 88,000 losses):
# losses_loss_public_stats (migration 0005) and losses_loss_public_period (0010).
SQLITE_IN_ORDER = (("side_id", "model_id", "fate"), ("first_seen",))
STAT_DIMENSIONS = ("side", "category", "model", "fate", "period", "province", "district")


@dataclass
class StatRow:
    """One group of a count: its key per dimension (slugs, codes, a period start) and the count."""

    key: dict[str, str | None]
    count: int


@dataclass
class Stats:
    total: int
    by: list[str]
    period: str
    rows: list[StatRow]
    labels: dict[str, dict[str, str]]


def losses_stats(*, queryset: QuerySet[Loss], by: list[str], period: str = "month") -> Stats:
    """Count `queryset` grouped by any of side, category, model, fate, period, province, district.

    Grouped in the database on raw columns (side, model, fate, unit, day of first sighting), then
    folded in Python into the requested dimensions: categories, provinces and periods are lookups
    of those columns.
    """
    unknown = [d for d in by if d not in STAT_DIMENSIONS]
    if unknown or len(set(by)) != len(by):
        raise InvalidInput(
            f"group by one or more of {', '.join(STAT_DIMENSIONS)}, each once",
            details={"by": by},
        )
    if period not in PERIODS:
        raise InvalidInput(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")
    columns: list[str] = []
    if "side" in by:
        columns.append("side_id")
    if "model" in by or "category" in by:
        columns.append("model_id")
    if "fate" in by:
        columns.append("fate")
    if "province" in by or "district" in by:
        columns.append("admin_unit_id")
    if "period" in by:
        # By day in the database (a plain column: no date function per row, which SQLite runs
        # in Python), folded into weeks, months or years below.
        columns.append("first_seen")
    qs = queryset.order_by()
    if connections[queryset.db].vendor == "sqlite" and not any(
        columns == list(order[: len(columns)]) for order in SQLITE_IN_ORDER
    ):
        # Grouped on COALESCE(column, column), the column's own value: given a plain column that
        # no index holds in order after the filter, SQLite's planner walks that column's own
        # index for the GROUP BY order, reading every row, instead of the covering index of the
        # filter (~100 ms -> ~40 ms for 88,000 losses, bench/publish.py).
        qs = qs.annotate(**{f"g_{c}": Coalesce(F(c), F(c)) for c in columns})
    else:
        qs = qs.annotate(**{f"g_{c}": F(c) for c in columns})
    columns = [f"g_{c}" for c in columns]
    grouped = qs.values(*columns).annotate(n=Count("*")) if columns else []
    labels: dict[str, dict[str, str]] = {d: {} for d in by if d not in ("fate", "period")}
    lookups = _stat_lookups(by, labels)
    folded: Counter[tuple[str | None, ...]] = Counter()
    total = 0
    if not columns:
        total = queryset.order_by().count()
    for row in grouped:
        key = tuple(_stat_key(d, row, lookups, period) for d in by)
        folded[key] += row["n"]
        total += row["n"]
    rows = [StatRow(key=dict(zip(by, key, strict=True)), count=n) for key, n in folded.items()]
    if "period" in by:  # a time series: in time order, unknown dates last
        rows.sort(key=lambda r: [v or "~" for v in r.key.values()])
    else:  # largest first
        rows.sort(key=lambda r: (-r.count, [v or "~" for v in r.key.values()]))
    return Stats(total=total, by=by, period=period, rows=rows, labels=labels)


@dataclass
class _Lookups:
    side: dict[int, str] = field(default_factory=dict)
    model: dict[int, str] = field(default_factory=dict)
    category_of_model: dict[int, str] = field(default_factory=dict)
    district: dict[int, str | None] = field(default_factory=dict)
    province: dict[int, str | None] = field(default_factory=dict)


def _stat_lookups(by: list[str], labels: dict[str, dict[str, str]]) -> _Lookups:
    found = _Lookups()
    if "side" in by:
        for pk, slug, name in Side.objects.values_list("id", "slug", "short_name"):
            found.side[pk] = slug
            labels["side"][slug] = name
    if "model" in by or "category" in by:
        rows = EquipmentModel.objects.values_list(
            "id", "slug", "name", "category__slug", "category__name"
        )
        for pk, slug, name, category_slug, category_name in rows:
            found.model[pk] = slug
            found.category_of_model[pk] = category_slug
            if "model" in by:
                labels["model"][slug] = name
            if "category" in by:
                labels["category"][category_slug] = category_name
    if "province" in by or "district" in by:
        units = AdminUnit.objects.filter(level__gte=AdminUnit.Level.PROVINCE).values_list(
            "id", "code", "name", "level", "parent__code", "parent__name"
        )
        for pk, code, name, level, parent_code, parent_name in units:
            if level == AdminUnit.Level.PROVINCE:
                found.province[pk], found.district[pk] = code, None
                if "province" in by:
                    labels["province"][code] = name
            else:
                found.province[pk], found.district[pk] = parent_code, code
                if "district" in by:
                    labels["district"][code] = name
                if "province" in by and parent_code:
                    labels["province"][parent_code] = parent_name
    return found


def _stat_key(dim: str, row: dict[str, Any], lookups: _Lookups, period: str) -> str | None:
    if dim == "side":
        return lookups.side.get(row["g_side_id"])
    if dim == "model":
        return lookups.model.get(row["g_model_id"])
    if dim == "category":
        return lookups.category_of_model.get(row["g_model_id"])
    if dim == "fate":
        return str(row["g_fate"])
    if dim == "period":
        day = row["g_first_seen"]
        if day is None:
            return None
        if period == "week":  # weeks start on Monday, as ISO 8601 (and TruncWeek) have them
            return str((day - dt.timedelta(days=day.weekday())).isoformat())
        return str(day.isoformat()[: 7 if period == "month" else 4 if period == "year" else 10])
    unit = row["g_admin_unit_id"]
    if unit is None:
        return None
    return lookups.province.get(unit) if dim == "province" else lookups.district.get(unit)
