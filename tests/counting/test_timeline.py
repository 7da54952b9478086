"""Counts over time, by first-seen date or by posting date, with the reporting backlog marked."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.counting.timeline import period_start, timeline
from attrition.errors import InvalidInput
from attrition.evidence.services import evidence_create
from attrition.losses.services import depiction_create, loss_update
from tests.ledger import Ledger


def posted(n: int, day: dt.date) -> object:
    return evidence_create(
        url=f"https://t.me/test_channel/{n}",
        posted_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
    )


def test_it_counts_per_period_and_keeps_a_running_total(ledger: Ledger) -> None:
    ledger.loss(first_seen=dt.date(2021, 6, 1))
    ledger.loss(first_seen=dt.date(2021, 6, 20))
    ledger.loss(first_seen=dt.date(2021, 8, 3))
    ledger.loss()  # no date

    line = timeline(conflict=ledger.conflict, period="month")

    assert [(p.start, p.count, p.cumulative) for p in line.points] == [
        (dt.date(2021, 6, 1), 2, 2),
        (dt.date(2021, 7, 1), 0, 2),  # empty periods are shown, not skipped
        (dt.date(2021, 8, 1), 1, 3),
    ]
    assert line.undated == 1
    assert line.total == 4


def test_it_starts_weeks_on_monday() -> None:
    assert period_start(dt.date(2021, 8, 15), "week") == dt.date(2021, 8, 9)
    assert period_start(dt.date(2021, 8, 15), "month") == dt.date(2021, 8, 1)
    assert period_start(dt.date(2021, 8, 15), "day") == dt.date(2021, 8, 15)


def test_it_counts_by_the_date_the_evidence_was_posted(ledger: Ledger) -> None:
    loss = ledger.loss(first_seen=dt.date(2021, 6, 1))
    depiction_create(loss=loss, evidence=posted(1, dt.date(2021, 7, 4)))
    depiction_create(loss=loss, evidence=posted(2, dt.date(2021, 7, 2)))
    ledger.loss(first_seen=dt.date(2021, 6, 2))  # no posted evidence

    line = timeline(conflict=ledger.conflict, basis="posted", period="day")

    assert [(p.start, p.count) for p in line.points] == [(dt.date(2021, 7, 2), 1)]
    assert line.undated == 1


def test_it_marks_late_items_and_the_periods_still_filling_in(ledger: Ledger) -> None:
    for n, day in enumerate(range(1, 20)):
        loss = ledger.loss(fates=[{"fate": "destroyed", "date": f"2021-06-{day:02d}"}])
        depiction_create(loss=loss, evidence=posted(n, dt.date(2021, 6, day + 2)))
    late = ledger.loss(fates=[{"fate": "captured", "date": "2021-06-01"}])
    depiction_create(loss=late, evidence=posted(99, dt.date(2021, 8, 20)))

    line = timeline(conflict=ledger.conflict, basis="posted", period="month")

    assert line.lag_days_p90 is not None
    assert line.lag_days_p90 == 2  # one late item in twenty does not move the 90th percentile
    assert [(p.start.month, p.count, p.late) for p in line.points] == [
        (6, 19, 0),
        (7, 0, 0),
        (8, 1, 1),
    ]
    assert line.incomplete_from is not None
    assert line.points[-1].incomplete
    assert not line.points[0].incomplete


def test_it_draws_the_timeline_as_of_an_earlier_moment(ledger: Ledger) -> None:
    loss = ledger.loss(first_seen=dt.date(2021, 6, 1))
    from django.utils import timezone

    then = timezone.now()
    loss_update(loss=loss, first_seen=dt.date(2021, 7, 1), reason="older video found")

    old = timeline(conflict=ledger.conflict, as_of=then)
    new = timeline(conflict=ledger.conflict)

    assert [p.start for p in old.points] == [dt.date(2021, 6, 1)]
    assert [p.start for p in new.points] == [dt.date(2021, 7, 1)]


def test_it_refuses_an_unknown_period(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="period"):
        timeline(conflict=ledger.conflict, period="fortnight")


def python_timeline(conflict: object, *, basis: str, period: str) -> tuple[object, ...]:
    """The timeline as it was first computed, in Python over every selected row (a reference)."""
    from attrition.losses.models import Depiction
    from attrition.losses.tally import losses_selected

    def event_date(first_seen: dt.date | None, fates: list[dict[str, str]]) -> dt.date | None:
        dated = [dt.date.fromisoformat(f["date"]) for f in fates if f.get("date")]
        return min(dated) if dated else first_seen

    items = list(
        losses_selected(conflict=conflict).values_list("pk", "first_seen", "fate_history")  # type: ignore[arg-type]
    )
    posted: dict[int, dt.date] = {}
    for loss_id, at in Depiction.objects.filter(
        deleted_at__isnull=True, evidence__posted_at__isnull=False
    ).values_list("loss_id", "evidence__posted_at"):
        day = at.astimezone(dt.UTC).date()  # type: ignore[union-attr]
        posted[loss_id] = min(posted.get(loss_id, day), day)
    counts: dict[dt.date, int] = {}
    late: dict[dt.date, int] = {}
    lags: list[int] = []
    undated = 0
    latest: dt.date | None = None
    for pk, first_seen, fates in items:
        event, shown = event_date(first_seen, fates), posted.get(pk)
        if shown is not None and event is not None:
            lags.append(max(0, (shown - event).days))
        when = first_seen if basis == "first_seen" else shown
        if when is None:
            undated += 1
            continue
        latest = max(latest or when, when)
        start = period_start(when, period)
        counts[start] = counts.get(start, 0) + 1
        if shown is not None and event is not None and (shown - event).days > 30:
            late[start] = late.get(start, 0) + 1
    p90 = sorted(lags)[min(len(lags) - 1, int(0.9 * len(lags)))] if lags else None
    return counts, late, undated, len(items), p90, latest


def test_it_groups_in_the_database_as_the_python_computation_did(ledger: Ledger) -> None:
    import random

    rng = random.Random(8)
    day0 = dt.date(2021, 5, 1)
    for n in range(60):
        fates: list[object] = [
            {"fate": rng.choice(["destroyed", "captured"]), "date": None}
            if rng.random() < 0.5
            else {"fate": "damaged", "date": str(day0 + dt.timedelta(days=rng.randrange(200)))}
            for _ in range(rng.randrange(1, 3))
        ]
        first = day0 + dt.timedelta(days=rng.randrange(200)) if rng.random() < 0.8 else None
        loss = ledger.loss(fates=fates, first_seen=first)
        for k in range(rng.randrange(3)):
            day = day0 + dt.timedelta(days=rng.randrange(260)) if rng.random() < 0.9 else None
            at = dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC) if day else None
            ev = evidence_create(url=f"https://t.me/random/{n}-{k}", posted_at=at)
            depiction_create(loss=loss, evidence=ev)

    for basis in ("first_seen", "posted"):
        for period in ("day", "week", "month"):
            line = timeline(conflict=ledger.conflict, basis=basis, period=period)
            counts, late, undated, total, p90, latest = python_timeline(
                ledger.conflict, basis=basis, period=period
            )
            assert {p.start: p.count for p in line.points if p.count} == counts
            assert {p.start: p.late for p in line.points if p.late} == late
            assert (line.undated, line.total, line.lag_days_p90) == (undated, total, p90)
            assert line.incomplete_from == latest - dt.timedelta(days=p90)  # type: ignore[arg-type,operator]
