"""One filter of the public ledger for the search page, the API, the feed and the exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import In
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture
from attrition.losses.choices import Fate
from attrition.losses.models import Depiction, Loss, Tag
from attrition.losses.tally import public_losses
from attrition.losses.textsearch import MIN_LENGTH, TABLE
from attrition.territory.models import AdminUnit

FILTER_FIELDS = (
    "conflict",
    "side",
    "category",
    "model",
    "fate",
    "seen_from",
    "seen_to",
    "place",
    "tag",
    "has_video",
    "q",
)
_LIST_FIELDS = frozenset({"side", "category", "model", "fate", "place", "tag"})
# From this many text hits on, a page is read faster by walking the list's index and testing each
# loss against the hits than by fetching every hit and sorting them (at 100,000 losses on SQLite:
# ~1 us a hit against ~0.08 us a loss walked). SQLite's planner cannot tell: it has no statistics
# of a virtual table, and always starts from the hits.
_WALK_FROM = 1000
# From this many losses of several models or places on, a page is read faster by walking the
# date index (~0.08 us a row) than by sorting the matches: 51 rows from 88,000 losses.
_WALK_FROM_MATCHES = 2000


class LossFilter(BaseModel):
    """Which public losses a list, a count or an export shows. Empty means "no restriction";
    several values of one field mean any of them, different fields must all hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conflict: str | None = Field(default=None, description="A conflict's slug.")
    side: list[str] = Field(default_factory=list, description="Slugs of the sides that lost.")
    category: list[str] = Field(default_factory=list, description="Category slugs.")
    model: list[str] = Field(default_factory=list, description="Equipment model slugs.")
    fate: list[Fate] = Field(default_factory=list, description="Headline fates.")
    seen_from: dt.date | None = Field(default=None, description="First seen on or after.")
    seen_to: dt.date | None = Field(default=None, description="First seen on or before.")
    place: list[str] = Field(
        default_factory=list,
        description="Admin unit codes: a province also matches the districts in it.",
    )
    tag: list[str] = Field(default_factory=list, description="Tag slugs.")
    has_video: bool | None = Field(
        default=None, description="Only losses with (true) or without (false) an archived video."
    )
    q: str = Field(
        default="",
        max_length=200,
        description="Text found anywhere, in any case, in the markings, unit, place, description "
        "or the model's name or alias; or #id.",
    )

    @field_validator("conflict", "side", "category", "model", "place", "tag", "q")
    @classmethod
    def _has_no_nul(cls, value: str | list[str] | None) -> str | list[str] | None:
        # No stored text can hold one (PostgreSQL refuses it), and SQLite ends a string there.
        texts = value if isinstance(value, list) else [value or ""]
        if any("\x00" in text for text in texts):
            raise ValueError("must not contain a NUL character")
        return value

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> LossFilter:
        """Return a filter from a query string (a QueryDict or a plain dict), ignoring other keys
        and empty values; raise InvalidInput that says what is wrong."""
        raw: dict[str, Any] = {}
        for name in FILTER_FIELDS:
            getlist = getattr(query, "getlist", None)
            values = getlist(name) if getlist else _as_list(query.get(name))
            values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
            if not values:
                continue
            raw[name] = values if name in _LIST_FIELDS else values[-1]
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInput(f"the filter is not valid: {problems}") from None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Return the filter as (name, value) pairs for a query string, in a stable order."""
        pairs: list[tuple[str, str]] = []
        for name in FILTER_FIELDS:
            value = getattr(self, name)
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, list):
                pairs.extend((name, str(v)) for v in value)
            elif isinstance(value, bool):
                pairs.append((name, "true" if value else "false"))
            else:
                pairs.append((name, str(value)))
        return pairs

    def is_empty(self) -> bool:
        """Return whether the filter restricts nothing."""
        return not self.query_pairs()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _ids(queryset: QuerySet[Any], slugs: list[str], what: str) -> list[int]:
    # A slug may name one side in each of several conflicts: keep them all.
    found = list(queryset.filter(slug__in=slugs).values_list("slug", "id"))
    missing = sorted(set(slugs) - {slug for slug, _ in found})
    if missing:
        raise InvalidInput(f"unknown {what}: {', '.join(missing)}", details={what: missing})
    return [pk for _, pk in found]


def _has_video() -> Exists:
    return Exists(
        Depiction.objects.filter(
            loss=OuterRef("pk"), deleted_at__isnull=True, evidence__deleted_at__isnull=True
        ).filter(
            Q(capture__kind=Capture.Kind.VIDEO)
            | Q(capture__isnull=True, evidence__custody__capture__kind=Capture.Kind.VIDEO)
        )
    )


def public_ledger() -> QuerySet[Loss]:
    """Return every loss a reader may see: verified, not deleted, of a public conflict."""
    # A subquery, not a join: the lists' plans then start from the losses table and its indexes.
    return public_losses().filter(conflict__in=Conflict.objects.filter(is_public=True))


def losses_filter(
    *, filters: LossFilter, queryset: QuerySet[Loss] | None = None, listing: bool = False
) -> QuerySet[Loss]:
    """Return the losses of `queryset` (default: the public ledger) that the filter selects.

    `listing`: the result is read a page at a time in date order (a list, not a count), so a
    choice of several models or places that keeps many losses is tested while walking the date
    index (see `_any_of`).
    """
    qs = public_ledger() if queryset is None else queryset
    conflict = None
    if filters.conflict:
        conflict = Conflict.objects.filter(slug=filters.conflict).first()
        if conflict is None:
            raise InvalidInput(f"unknown conflict: {filters.conflict}")
        if queryset is None and conflict.is_public:
            # Its losses without the subquery over public conflicts: with it, SQLite cannot
            # group or order from an index (grouped counts of a conflict: 45 ms -> 12 ms).
            qs = public_losses()
        qs = qs.filter(conflict_id=conflict.pk)
    if filters.side:
        sides = Side.objects.filter(conflict=conflict) if conflict else Side.objects.all()
        qs = qs.filter(side_id__in=_ids(sides, filters.side, "side"))
    model_ids: set[int] | None = None
    if filters.category:
        category_ids = _ids(Category.objects.all(), filters.category, "category")
        model_ids = set(
            EquipmentModel.objects.filter(category_id__in=category_ids).values_list("id", flat=True)
        )
    if filters.model:
        chosen = set(_ids(EquipmentModel.objects.all(), filters.model, "model"))
        model_ids = chosen if model_ids is None else model_ids & chosen
    if model_ids is not None:
        qs = qs.filter(_any_of(qs, "model_id", sorted(model_ids), listing=listing))
    if filters.fate:
        qs = qs.filter(fate__in=[f.value for f in filters.fate])
    if filters.seen_from:
        qs = qs.filter(first_seen__gte=filters.seen_from)
    if filters.seen_to:
        qs = qs.filter(first_seen__lte=filters.seen_to)
    if filters.place:
        units = AdminUnit.objects.filter(
            Q(code__in=filters.place) | Q(parent__code__in=filters.place)
        )
        if conflict is not None and conflict.boundary_set_id is not None:
            units = units.filter(boundary_set_id=conflict.boundary_set_id)
        known = set(units.filter(code__in=filters.place).values_list("code", flat=True))
        missing = sorted(set(filters.place) - known)
        if missing:
            raise InvalidInput(f"unknown place: {', '.join(missing)}", details={"place": missing})
        unit_ids = sorted(units.values_list("id", flat=True))
        qs = qs.filter(_any_of(qs, "admin_unit_id", unit_ids, listing=listing))
    if filters.tag:
        tag_ids = _ids(Tag.objects.all(), filters.tag, "tag")
        tagged = Loss.tags.through.objects.filter(tag_id__in=tag_ids).values("loss_id")
        qs = qs.filter(pk__in=tagged)
    if filters.has_video is not None:
        qs = qs.filter(_has_video()) if filters.has_video else qs.exclude(_has_video())
    if filters.q:
        qs = qs.filter(_text_query(filters.q, using=qs.db))
    return qs


def _any_of(qs: QuerySet[Loss], column: str, ids: list[int], *, listing: bool) -> Q:
    """Return "`column` is one of `ids`", written for the way the list will be read.

    SQLite reads several models (a category) or places (a province and its districts) from
    their index, one id after another, and sorts every match by date: ~5 ms a page for a
    category of 45,000 losses at 100,000. Where the choice keeps many losses, walking the date
    index (which holds these columns) and testing each row finds a page after a few hundred
    rows; where it keeps few, the sort is cheaper. Which it is, a capped count tells (~0.2 ms);
    SQLite's statistics cannot, as they only know the average model's share.
    """
    plain = Q(**{f"{column}__in": ids})
    if not listing or len(ids) < 2 or connections[qs.db].vendor != "sqlite":
        return plain
    many = qs.filter(plain).order_by()[:_WALK_FROM_MATCHES].count() >= _WALK_FROM_MATCHES
    return Q(In(_Unindexed(F(column)), ids)) if many else plain


class _Unindexed(Func):
    """`+column`: the column's value, which SQLite's planner will not look up in an index."""

    template = "+%(expressions)s"


def _text_query(text: str, *, using: str) -> Q:
    """Return a condition matching `text` in a loss's words, its model's name or alias, or "#id".

    Words match anywhere in the markings, unit, place or description, whatever the case. With
    3 characters or more they are looked up in the index of losses.textsearch; shorter ones are
    found by reading every loss (a trigram index cannot find them).
    """
    text = text.strip()
    if text.startswith("#") and text[1:].isdigit():
        return Q(pk=int(text[1:]))
    model_ids = sorted(
        set(
            EquipmentModel.objects.filter(
                Q(name__icontains=text) | Q(aliases__alias__icontains=text)
            ).values_list("id", flat=True)
        )
    )
    by_model = Q(model_id__in=model_ids)
    connection = connections[using]
    if connection.vendor != "sqlite" or len(text) < MIN_LENGTH:
        # On PostgreSQL, UPPER(column) LIKE UPPER('%text%') (escaped) is what the index holds.
        return (
            Q(markings__icontains=text)
            | Q(unit__icontains=text)
            | Q(place_text__icontains=text)
            | Q(description__icontains=text)
            | by_model
        )
    # One FTS5 string ("" is a quote in it): the reader's text is matched, never parsed.
    phrase = '"' + text.replace('"', '""') + '"'
    hits = RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [phrase])  # noqa: S608, S611
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH %s LIMIT %s)",  # noqa: S608
            [phrase, _WALK_FROM],
        )
        few = cursor.fetchone()[0] < _WALK_FROM
    if few and not model_ids:
        return Q(pk__in=hits)  # from the hits, sorted afterwards
    return Q(In(_Unindexed(F("pk")), hits)) | by_model  # a walk of the list's index
