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


def _cursor_encode(sort: str, first_seen: dt.date | None, pk: int) -> str:
    seen = first_seen.isoformat() if first_seen else None
    raw = json.dumps([sort, seen, pk], separators=(",", ":")).encode()
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


def _oldest_first(
    queryset: QuerySet[Loss], after: tuple[dt.date | None, int] | None, n: int
) -> list[tuple[int, dt.date | None]]:
    """Return up to n (id, first_seen) in "first_seen" order after a cursor: dated rows oldest
    first, then undated ones by id.

    Two reads, each in the order of the newest-first list index read backwards: no index stores
    NULLs after the dates in ascending order on both databases, and one query sorted every
    public loss (~40 ms a page on PostgreSQL at 88,000).
    """
    keys: list[tuple[int, dt.date | None]] = []
    if after is None or after[0] is not None:
        dated = queryset.filter(first_seen__isnull=False)
        if after is not None:
            day, pk = after
            dated = dated.filter(Q(first_seen__gt=day) | Q(first_seen=day, pk__gt=pk))
        # No NULLs here: NULLS FIRST is the backward walk of (first_seen DESC NULLS LAST, id DESC).
        order: list[Any] = [F("first_seen").asc(nulls_first=True), "id"]
        keys = list(dated.order_by(*order).values_list("pk", "first_seen")[:n])
    if len(keys) < n:
        undated = queryset.filter(first_seen__isnull=True)
        if after is not None and after[0] is None:
            undated = undated.filter(pk__gt=after[1])
        keys += undated.order_by("id").values_list("pk", "first_seen")[: n - len(keys)]
    return keys


def page_ids(
    *, queryset: QuerySet[Loss], sort: str = DEFAULT_SORT, cursor: str = "", limit: int = 50
) -> tuple[list[int], str | None]:
    """Return the ids of one page of `queryset` in `sort` order after `cursor`, and the cursor
    of the next page (None on the last).

    Read from the losses table alone (no joins): the planner walks the list index in order and
    stops at limit + 1. Pages then fetch those rows with what they show.
    """
    order = sort_order(sort)
    n = max(limit + 1, 51)  # for a tiny LIMIT SQLite's planner prefers sorting to the index
    after = _cursor_decode(cursor, sort) if cursor else None
    if sort == "first_seen":
        keys = _oldest_first(queryset, after, n)
    else:
        qs = queryset.filter(_after(sort, *after)) if after else queryset
        keys = list(qs.order_by(*order).values_list("pk", "first_seen")[:n])
    more = len(keys) > limit
    keys = keys[:limit]
    next_cursor = _cursor_encode(sort, keys[-1][1], keys[-1][0]) if more else None
    return [pk for pk, _ in keys], next_cursor


def losses_page(
    *, queryset: QuerySet[Loss], sort: str = DEFAULT_SORT, cursor: str = "", limit: int = 50
) -> LossPage:
    """Return one page of `queryset` in `sort` order, after `cursor` (from the previous page)."""
    ids, next_cursor = page_ids(queryset=queryset, sort=sort, cursor=cursor, limit=limit)
    rows = {loss.pk: loss for loss in queryset.filter(pk__in=ids).order_by()}
    # A loss unpublished between the two reads is left out, not an error.
    items = [rows[pk] for pk in ids if pk in rows]
    return LossPage(items=items, next_cursor=next_cursor, sort=sort)
