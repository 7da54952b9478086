"""Cursor pages walk every public loss once, in order, for every sort, across date ties and
undated losses (which come last in both date orders)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from attrition.errors import InvalidInput
from attrition.losses.models import Loss
from attrition.losses.selectors import (
    SORTS,
    LossFilter,
    filtering,
    losses_filter,
    page_ids,
    public_ledger,
)
from tests.ledger import Ledger

DAY = dt.date(2021, 8, 1)


@pytest.fixture
def losses(ledger: Ledger) -> list[Loss]:
    # Three on one day, two on another, three undated, interleaved by id.
    days = [DAY, None, DAY + dt.timedelta(days=3), DAY, None, DAY, DAY - dt.timedelta(days=1)]
    days += [None, DAY + dt.timedelta(days=3)]
    return [ledger.loss(first_seen=day) for day in days]


def expected(losses: list[Loss], sort: str) -> list[int]:
    dated = [x for x in losses if x.first_seen is not None]
    undated = sorted((x.pk for x in losses if x.first_seen is None), reverse=sort == "-first_seen")
    if sort == "first_seen":
        return [x.pk for x in sorted(dated, key=lambda x: (x.first_seen, x.pk))] + undated
    if sort == "-first_seen":
        newest = sorted(dated, key=lambda x: (x.first_seen, x.pk), reverse=True)
        return [x.pk for x in newest] + undated
    return sorted((x.pk for x in losses), reverse=sort == "-id")


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_pages_walk_every_loss_once_in_order(losses: list[Loss], sort: str, limit: int) -> None:
    seen: list[int] = []
    cursor: str | None = ""
    while cursor is not None:
        ids, cursor = page_ids(queryset=public_ledger(), sort=sort, cursor=cursor, limit=limit)
        assert 0 < len(ids) <= limit
        seen += ids
    assert seen == expected(losses, sort)


def test_an_unknown_sort_is_refused_before_the_cursor_is_read(losses: list[Loss]) -> None:
    with pytest.raises(InvalidInput, match="unknown sort"):
        page_ids(queryset=public_ledger(), sort="model", cursor="not-a-cursor")


@pytest.mark.parametrize("walk_from", [1, 10_000])
@pytest.mark.parametrize("sort", SORTS)
def test_a_list_of_several_models_pages_the_same_walked_or_sorted(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, walk_from: int, sort: str
) -> None:
    """A category (two models here) is tested while walking the date index where it keeps many
    losses, and read from the model index and sorted where it keeps few: the same pages."""
    days = [DAY, None, DAY + dt.timedelta(days=3), DAY, None, DAY, DAY - dt.timedelta(days=1)]
    models = [ledger.t62, ledger.ranger, ledger.t55]
    made = [ledger.loss(models[n % 3], first_seen=day) for n, day in enumerate(days * 2)]
    tanks = [x for x in made if x.model_id != ledger.ranger.pk]
    monkeypatch.setattr(filtering, "_WALK_FROM_MATCHES", walk_from)
    queryset = losses_filter(filters=LossFilter(category=["test-tanks"]), listing=True)
    walked = "+" in str(queryset.query)  # the model is tested, not looked up
    assert walked == (walk_from == 1 and connection.vendor == "sqlite")
    seen: list[int] = []
    cursor: str | None = ""
    while cursor is not None:
        ids, cursor = page_ids(queryset=queryset, sort=sort, cursor=cursor, limit=2)
        seen += ids
    assert seen == expected(tanks, sort)
