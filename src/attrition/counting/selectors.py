"""Reads of saved tallies: their counts now or as of a moment, permalinks, and the methodology."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from attrition import history
from attrition.catalog.models import Category, Conflict, Side
from attrition.errors import InvalidInput, NotFound
from attrition.losses.models import Tally, TallyVersion
from attrition.losses.tally import (
    TallyResult,
    TallyRule,
    at_least_sentence,
    data_version,
    rule_describe,
    tally_count,
)


@dataclass(frozen=True)
class Line:
    """One row of a breakdown: a label and its count."""

    key: str
    label: str
    count: int


@dataclass
class TallyReport:
    """A saved tally counted: its rule (as it stood then), count, breakdown, sentence, permalink."""

    tally: Tally
    rule: TallyRule
    rule_text: str
    result: TallyResult
    as_of: dt.datetime
    pinned: bool
    sentence: str
    permalink: str
    by_fate: list[Line]
    by_side: list[Line]
    by_category: list[Line]


def as_of_parse(text: str | None) -> dt.datetime | None:
    """Return an "as of" moment from ISO 8601 text (a date means its end, UTC), or None."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"as_of={text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def as_of_text(moment: dt.datetime) -> str:
    """Return a moment as permalinks write it: UTC, to the microsecond, with a Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tallies_public(*, conflict: Conflict | None = None) -> QuerySet[Tally]:
    """Return the public saved tallies of public conflicts (of one conflict if given)."""
    found = Tally.objects.filter(
        is_public=True, deleted_at__isnull=True, conflict__is_public=True
    ).select_related("conflict")
    return found.filter(conflict=conflict) if conflict is not None else found


def tally_get(*, conflict_slug: str, slug: str) -> Tally:
    """Return a public saved tally by its conflict's slug and its own, or raise NotFound."""
    found = tallies_public().filter(conflict__slug=conflict_slug, slug=slug).first()
    if found is None:
        raise NotFound(f"no public tally {conflict_slug}/{slug}")
    return found


def tally_rule_at(*, tally: Tally, as_of: dt.datetime | None) -> TallyRule:
    """Return the tally's rule as it stood at `as_of` (its first version if it is younger)."""
    raw = tally.rule
    if as_of is not None:
        versions = TallyVersion._default_manager.filter(record_id=tally.pk)
        then = history.valid_at(versions, as_of).first() or versions.order_by("version").first()
        if then is not None:
            raw = then.rule  # type: ignore[union-attr]
    return TallyRule.parse(raw)


def pinned_moment(*, tally: Tally | None = None, also: dt.datetime | None = None) -> dt.datetime:
    """Return the moment that reproduces a count made now: the data version, or later.

    The tally's own latest edit counts too, so that its permalink finds the rule shown today.
    """
    moments = [data_version(), also]
    if tally is not None:
        current = history.latest_version(tally)
        moments.append(current.valid_from if current is not None else None)  # type: ignore[attr-defined]
    known = [m for m in moments if m is not None]
    return max(known) if known else timezone.now()


def _lines(labels: dict[int, str], counts: dict[int, int], keys: dict[int, str]) -> list[Line]:
    return [
        Line(key=keys[pk], label=labels[pk], count=counts.get(pk, 0))
        for pk in labels
        if counts.get(pk, 0)
    ]


def tally_report(*, tally: Tally, as_of: dt.datetime | None = None) -> TallyReport:
    """Count a saved tally now (pinned to the data version) or as of a past moment."""
    pinned = as_of is not None
    rule = tally_rule_at(tally=tally, as_of=as_of)
    with transaction.atomic():
        # Today's count reads the losses table (faster than the versions); the data version
        # read in the same transaction is the moment that reproduces it.
        result = tally_count(conflict=tally.conflict, rule=rule, as_of=as_of)
        if as_of is None:
            as_of = pinned_moment(tally=tally)
            result.as_of = as_of
    sides = Side.objects.filter(conflict=tally.conflict)
    categories = Category.objects.filter(pk__in=result.by_category)
    query = urlencode({"as_of": as_of_text(as_of)})
    path = reverse("counting:tally", args=[tally.conflict.slug, tally.slug])
    return TallyReport(
        tally=tally,
        rule=rule,
        rule_text=rule_describe(rule),
        result=result,
        as_of=as_of,
        pinned=pinned,
        sentence=at_least_sentence(what=tally.name, rule=rule, total=result.total, when=as_of),
        permalink=f"{path}?{query}",
        by_fate=[Line(key=f, label=f, count=n) for f, n in result.fates_in_order()],
        by_side=_lines(
            {s.pk: s.short_name for s in sides}, result.by_side, {s.pk: s.slug for s in sides}
        ),
        by_category=_lines(
            {c.pk: c.name for c in categories},
            result.by_category,
            {c.pk: c.slug for c in categories},
        ),
    )


@dataclass(frozen=True)
class MethodEntry:
    """One saved tally on the methodology page: its name, conflict and rule in words."""

    tally: Tally
    rule_text: str
    rule: TallyRule


def methodology() -> list[MethodEntry]:
    """Return every public saved tally with its rule in words, for the methodology page."""
    return [
        MethodEntry(tally=t, rule_text=rule_describe(rule), rule=rule)
        for t in tallies_public().order_by("conflict__name", "name")
        for rule in [TallyRule.parse(t.rule)]
    ]
