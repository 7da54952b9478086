"""Sorting and cursor (keyset) pages of a list of losses."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from attrition.errors import InvalidInput
from attrition.losses.models import Loss

SORTS = ("-first_seen", "first_seen", "-id", "id")
DEFAULT_SORT = "-first_seen"


@dataclass
class LossPage:
    """One page of a sorted list, and the cursor of the next page (None on the last)."""

    items: list[Loss]
    next_cursor: str | None
    sort: str


def sort_order(sort: str) -> list[Any]:
    """Return the ORDER BY of a sort; every order ends on the id, so that it is total."""
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if sort == "-first_seen":
        return [F("first_seen").desc(nulls_last=True), "-id"]
    if sort == "first_seen":
        return [F("first_seen").asc(nulls_last=True), "id"]
    return [sort]


def _cursor_encode(sort: str, loss: Loss) -> str:
    seen = loss.first_seen.isoformat() if loss.first_seen else None
    raw = json.dumps([sort, seen, loss.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str, sort: str) -> tuple[dt.date | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, seen, pk = json.loads(raw)
        day = dt.date.fromisoformat(seen) if seen is not None else None
        if not isinstance(pk, int):
            raise ValueError(pk)
    except (ValueError, TypeError):
        raise InvalidInput("the cursor is not valid: pass on the one a page gave") from None
    if cursor_sort != sort:
        raise InvalidInput("the cursor belongs to another sort order: start again without it")
    return day, pk


def _after(sort: str, day: dt.date | None, pk: int) -> Q:
    """Return the keyset condition for rows after (day, pk) in a sort (NULL dates last)."""
    if sort == "-id":
        return Q(pk__lt=pk)
    if sort == "id":
        return Q(pk__gt=pk)
    later = "lt" if sort == "-first_seen" else "gt"
    if day is None:
        return Q(first_seen__isnull=True, **{f"pk__{later}": pk})
    return (
        Q(**{f"first_seen__{later}": day})
        | Q(first_seen=day, **{f"pk__{later}": pk})
        | Q(first_seen__isnull=True)
    )


def losses_page(
    *, queryset: QuerySet[Loss], sort: str = DEFAULT_SORT, cursor: str = "", limit: int = 50
) -> LossPage:
    """Return one page of `queryset` in `sort` order, after `cursor` (from the previous page)."""
    order = sort_order(sort)
    qs = queryset
    if cursor:
        qs = qs.filter(_after(sort, *_cursor_decode(cursor, sort)))
    # Two steps: the page's ids from the losses table alone (no joins: the planner walks the
    # list index in order and stops at limit + 1), then those rows with what they show.
    # At least 51: for a tiny LIMIT SQLite's planner prefers sorting every row to the index.
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[: max(limit + 1, 51)])
    more = len(ids) > limit
    ids = ids[:limit]
    rows = {loss.pk: loss for loss in queryset.filter(pk__in=ids).order_by()}
    items = [rows[pk] for pk in ids]
    return LossPage(
        items=items, next_cursor=_cursor_encode(sort, items[-1]) if more else None, sort=sort
    )
