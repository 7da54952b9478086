"""Counts over time: per day, week or month, by first-seen date or by the date evidence was posted.

Each period has its own count, the running total, and how many of its items were documented late
(their evidence first posted more than `late_days` after the event). Recent periods that are
still filling in, judged by how late items usually arrive, are marked incomplete: the reporting
backlog, said out loud rather than read as a fall in losses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Min

from attrition.catalog.models import Conflict
from attrition.errors import InvalidInput
from attrition.losses.models import Depiction
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


def _event_date(first_seen: dt.date | None, fate_history: Any) -> dt.date | None:
    """Return the date the loss happened: its earliest dated fate, else its first-seen date."""
    dated = [
        dt.date.fromisoformat(entry["date"])
        for entry in fate_history or []
        if isinstance(entry, dict) and entry.get("date")
    ]
    return min(dated) if dated else first_seen


def _quantile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timeline(
    *,
    conflict: Conflict,
    rule: TallyRule | None = None,
    basis: str = "first_seen",
    period: str = "month",
    as_of: dt.datetime | None = None,
    late_days: int = LATE_DAYS,
) -> Timeline:
    """Return the counts of the rule's losses per period on the chosen date basis."""
    if basis not in BASES:
        raise InvalidInput(f"basis must be one of {', '.join(BASES)}")
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}")
    rows = losses_selected(conflict=conflict, rule=rule, as_of=as_of)
    id_field = "pk" if as_of is None else "record_id"
    items = list(rows.order_by().values_list(id_field, "first_seen", "fate_history"))
    posted = _first_posted([pk for pk, _, _ in items])
    result = Timeline(basis=basis, period=period, late_days=late_days)
    counts: dict[dt.date, int] = {}
    late: dict[dt.date, int] = {}
    lags: list[int] = []
    latest: dt.date | None = None
    for pk, first_seen, fates in items:
        event = _event_date(first_seen, fates)
        shown = posted.get(pk)
        if shown is not None and event is not None:
            lags.append(max(0, (shown - event).days))
        when = first_seen if basis == "first_seen" else shown
        if when is None:
            result.undated += 1
            continue
        latest = max(latest or when, when)
        start = period_start(when, period)
        counts[start] = counts.get(start, 0) + 1
        if shown is not None and event is not None and (shown - event).days > late_days:
            late[start] = late.get(start, 0) + 1
    result.total = len(items)
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


def _first_posted(loss_ids: list[int]) -> dict[int, dt.date]:
    """Return, per loss, the day its earliest dated evidence was posted."""
    found: dict[int, dt.date] = {}
    chunk = 5000
    for i in range(0, len(loss_ids), chunk):
        rows = (
            Depiction.objects.filter(
                loss_id__in=loss_ids[i : i + chunk],
                deleted_at__isnull=True,
                evidence__deleted_at__isnull=True,
                evidence__posted_at__isnull=False,
            )
            .order_by()
            .values("loss_id")
            .annotate(first=Min("evidence__posted_at"))
        )
        for row in rows:
            found[row["loss_id"]] = row["first"].astimezone(dt.UTC).date()
    return found
