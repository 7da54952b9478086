"""Counts over time: per day, week or month, by first-seen date or by the date evidence was posted.

Each period has its own count, the running total, and how many of its items were documented late
(their evidence first posted more than `late_days` after the event). Recent periods that are
still filling in, judged by how late items usually arrive, are marked incomplete: the reporting
backlog, said out loud rather than read as a fall in losses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from attrition import history
from attrition.catalog.models import Conflict
from attrition.counting.sql import DaysBetween, EarliestFateDate, PeriodStart, UtcDate
from attrition.errors import InvalidInput
from attrition.losses.models import Depiction, DepictionVersion
from attrition.losses.tally import TallyRule, losses_selected

Basis = Literal["first_seen", "posted"]
Period = Literal["day", "week", "month"]
BASES: tuple[str, ...] = ("first_seen", "posted")
PERIODS: tuple[str, ...] = ("day", "week", "month")
LATE_DAYS = 30
# A period is "still filling in" while fewer than this share of items would have arrived.
COMPLETE_SHARE = 0.9


@dataclass(frozen=True)
class Point:
    """One period: its first day, its count, the running total, late items, and completeness."""

    start: dt.date
    count: int
    cumulative: int
    late: int
    incomplete: bool


@dataclass
class Timeline:
    basis: str
    period: str
    points: list[Point] = field(default_factory=list)
    undated: int = 0
    total: int = 0
    late_days: int = LATE_DAYS
    lag_days_p90: int | None = None
    incomplete_from: dt.date | None = None


def period_start(day: dt.date, period: str) -> dt.date:
    """Return the first day of the day's period (weeks start on Monday)."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next(start: dt.date, period: str) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def _quantile(histogram: dict[int, int], share: float) -> int:
    """Return the value at `share` of the sorted values that `histogram` counts."""
    total = sum(histogram.values())
    index, seen = min(total - 1, int(share * total)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen > index:
            return value
    raise ValueError("empty histogram")


def _first_posted(id_field: str, as_of: dt.datetime | None) -> Any:
    """Return, as SQL, the UTC day a row's loss had its earliest dated evidence posted."""
    if as_of is None:
        shown: QuerySet[Any] = Depiction.objects.filter(
            deleted_at__isnull=True, evidence__deleted_at__isnull=True
        )
    else:
        # The depictions as they stood; the evidence as it is (unless deleted only since).
        shown = history.valid_at(DepictionVersion._default_manager.all(), as_of).filter(
            Q(evidence__deleted_at__isnull=True) | Q(evidence__deleted_at__gt=as_of),
            deleted_at__isnull=True,
        )
    first = (
        shown.filter(loss_id=OuterRef(id_field), evidence__posted_at__isnull=False)
        .order_by()
        .values("loss_id")
        .annotate(first=Min("evidence__posted_at"))
        .values("first")
    )
    return UtcDate(Subquery(first))


def timeline(
    *,
    conflict: Conflict,
    rule: TallyRule | None = None,
    basis: str = "first_seen",
    period: str = "month",
    as_of: dt.datetime | None = None,
    late_days: int = LATE_DAYS,
) -> Timeline:
    """Return the counts of the rule's losses per period on the chosen date basis.

    Grouped in the database: the losses by period, and those with posted evidence by period
    and reporting lag (days from the event to the first post), so no loss is read into Python.
    """
    if basis not in BASES:
        raise InvalidInput(f"basis must be one of {', '.join(BASES)}")
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}")
    rows = losses_selected(conflict=conflict, rule=rule, as_of=as_of).order_by()
    result = Timeline(basis=basis, period=period, late_days=late_days)
    counts: dict[dt.date, int] = defaultdict(int)
    latest: dt.date | None = None
    if basis == "first_seen":
        by_period = (
            rows.annotate(start=PeriodStart("first_seen", period=period))
            .values("start")
            .annotate(n=Count("*"), latest=Max("first_seen"))
        )
        for row in by_period:
            result.total += row["n"]
            if row["start"] is None:
                result.undated += row["n"]
                continue
            counts[row["start"]] += row["n"]
            latest = max(latest or row["latest"], row["latest"])
    else:
        result.total = rows.count()
        result.undated = result.total
    posted = _first_posted("id" if as_of is None else "record_id", as_of)
    shown = rows.annotate(posted_on=posted).filter(posted_on__isnull=False)
    when = F("first_seen") if basis == "first_seen" else F("posted_on")
    by_lag = (
        shown.annotate(
            lag=DaysBetween("posted_on", Coalesce(EarliestFateDate("fate_history"), "first_seen")),
            start=PeriodStart(when, period=period),
        )
        .values("start", "lag")
        .annotate(n=Count("*"), latest=Max(when))
    )
    late: dict[dt.date, int] = defaultdict(int)
    lags: dict[int, int] = defaultdict(int)
    for row in by_lag:
        start, lag, n = row["start"], row["lag"], row["n"]
        if lag is not None:
            lags[max(0, lag)] += n
        if start is None:
            continue
        if basis == "posted":
            counts[start] += n
            result.undated -= n
            latest = max(latest or row["latest"], row["latest"])
        if lag is not None and lag > late_days:
            late[start] += n
    if lags:
        result.lag_days_p90 = _quantile(lags, COMPLETE_SHARE)
    if latest is not None and result.lag_days_p90 is not None:
        result.incomplete_from = latest - dt.timedelta(days=result.lag_days_p90)
    result.points = _points(counts, late, period, result.incomplete_from)
    return result


def _points(
    counts: dict[dt.date, int],
    late: dict[dt.date, int],
    period: str,
    incomplete_from: dt.date | None,
) -> list[Point]:
    """Return every period from the first to the last, empty ones included."""
    points: list[Point] = []
    if not counts:
        return points
    start, last, running = min(counts), max(counts), 0
    while start <= last:
        running += counts.get(start, 0)
        end = _next(start, period) - dt.timedelta(days=1)
        points.append(
            Point(
                start=start,
                count=counts.get(start, 0),
                cumulative=running,
                late=late.get(start, 0),
                incomplete=incomplete_from is not None and end >= incomplete_from,
            )
        )
        start = _next(start, period)
    return points
