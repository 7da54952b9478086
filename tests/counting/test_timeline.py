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
