"""One filter of the public ledger for the search page, the API, the feed and the exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture
from attrition.losses.choices import Fate
from attrition.losses.models import Depiction, Loss, Tag
from attrition.losses.tally import public_losses
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
        default="", max_length=200, description="Text in markings, unit, place or model name."
    )

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
    found = dict(queryset.filter(slug__in=slugs).values_list("slug", "id"))
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise InvalidInput(f"unknown {what}: {', '.join(missing)}", details={what: missing})
    # A slug may name one side in each of several conflicts: keep them all.
    return list(queryset.filter(slug__in=slugs).values_list("id", flat=True))


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


def losses_filter(*, filters: LossFilter, queryset: QuerySet[Loss] | None = None) -> QuerySet[Loss]:
    """Return the losses of `queryset` (default: the public ledger) that the filter selects."""
    qs = public_ledger() if queryset is None else queryset
    conflict = None
    if filters.conflict:
        conflict = Conflict.objects.filter(slug=filters.conflict).first()
        if conflict is None:
            raise InvalidInput(f"unknown conflict: {filters.conflict}")
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
        qs = qs.filter(model_id__in=sorted(model_ids))
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
        qs = qs.filter(admin_unit_id__in=list(units.values_list("id", flat=True)))
    if filters.tag:
        tag_ids = _ids(Tag.objects.all(), filters.tag, "tag")
        tagged = Loss.tags.through.objects.filter(tag_id__in=tag_ids).values("loss_id")
        qs = qs.filter(pk__in=tagged)
    if filters.has_video is not None:
        qs = qs.filter(_has_video()) if filters.has_video else qs.exclude(_has_video())
    if filters.q:
        qs = qs.filter(_text_query(filters.q))
    return qs


def _text_query(text: str) -> Q:
    """Return a condition matching `text` in a loss's words, its model's name or alias, or "#id"."""
    text = text.strip()
    if text.startswith("#") and text[1:].isdigit():
        return Q(pk=int(text[1:]))
    models = EquipmentModel.objects.filter(
        Q(name__icontains=text) | Q(aliases__alias__icontains=text)
    ).values_list("id", flat=True)
    return (
        Q(markings__icontains=text)
        | Q(unit__icontains=text)
        | Q(place_text__icontains=text)
        | Q(description__icontains=text)
        | Q(model_id__in=list(set(models)))
    )
