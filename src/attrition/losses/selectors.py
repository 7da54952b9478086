"""Reads for the public ledger: the tracker-style page of a conflict, filtered lists with cursor
pages, and grouped counts, all computed from the losses."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek, TruncYear
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.claims.models import Claim
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture, Evidence
from attrition.losses.choices import FATE_ORDER, Fate, ReviewStatus
from attrition.losses.models import Depiction, Loss, LossVersion, Tag
from attrition.losses.tally import TallyResult, TallyRule, public_losses, tally_count
from attrition.territory.models import AdminUnit


@dataclass
class FateCounts:
    """A total and its split by fate, in the order trackers list fates."""

    total: int
    fates: list[tuple[str, int]]

    @property
    def split(self) -> str:
        """Return "destroyed: 3, damaged: 0, abandoned: 1, captured: 8"."""
        return ", ".join(f"{fate}: {n}" for fate, n in self.fates)

    @property
    def split_nonzero(self) -> str:
        """Return the split without the fates that count zero."""
        return ", ".join(f"{fate}: {n}" for fate, n in self.fates if n)

    def sentence(self, name: str) -> str:
        """Return the tracker headline: "Afghan forces: 12, of which destroyed: 3, ..."."""
        return f"{name}: {self.total}, of which {self.split}"


def _fate_counts(total: int, by_fate: dict[str, int]) -> FateCounts:
    return FateCounts(total=total, fates=[(f.value, by_fate.get(f.value, 0)) for f in FATE_ORDER])


@dataclass
class EvidenceLink:
    """One evidence link under a model line: "(2 and 3, captured)"."""

    evidence: Evidence
    numbers: list[int]
    fate: str
    is_sample: bool

    @property
    def label(self) -> str:
        nums = [str(n) for n in self.numbers]
        joined = nums[0] if len(nums) == 1 else ", ".join(nums[:-1]) + " and " + nums[-1]
        return f"{joined}, {self.fate}"


@dataclass
class ModelLine:
    """A model's line in a category: its total and its numbered evidence links."""

    model: EquipmentModel
    total: int
    links: list[EvidenceLink]
    undocumented: list[int]
    losses: list[Loss]


@dataclass
class CategoryBlock:
    category: Category
    counts: FateCounts
    lines: list[ModelLine] = field(default_factory=list)


@dataclass
class SideBlock:
    side: Side
    counts: FateCounts
    categories: list[CategoryBlock]


@dataclass
class ConflictLedger:
    """Everything the public conflict page shows, computed from verified losses."""

    conflict: Conflict
    sides: list[SideBlock]
    has_sample: bool
    tally: TallyResult
    claims: list[Claim]


def _model_lines(losses: list[Loss]) -> list[ModelLine]:
    """Number each model's losses 1..n and group the numbers under each evidence link by fate."""
    by_model: dict[int, list[Loss]] = defaultdict(list)
    for loss in losses:
        by_model[loss.model_id].append(loss)
    lines = []
    for model_losses in by_model.values():
        model_losses.sort(key=lambda x: (x.first_seen is None, x.first_seen, x.pk))
        groups: dict[tuple[int, str], list[int]] = {}
        evidence_of: dict[int, Evidence] = {}
        undocumented = []
        for number, loss in enumerate(model_losses, start=1):
            depictions = loss.public_depictions  # type: ignore[attr-defined]
            if not depictions:
                undocumented.append(number)
            for depiction in depictions:
                evidence_of[depiction.evidence_id] = depiction.evidence
                numbers = groups.setdefault((depiction.evidence_id, loss.fate), [])
                if number not in numbers:
                    numbers.append(number)
        links = [
            EvidenceLink(
                evidence=evidence_of[evidence_id],
                numbers=numbers,
                fate=fate,
                is_sample=evidence_of[evidence_id].is_sample,
            )
            for (evidence_id, fate), numbers in groups.items()
        ]
        links.sort(key=lambda link: (link.numbers[0], link.fate))
        lines.append(
            ModelLine(
                model=model_losses[0].model,
                total=len(model_losses),
                links=links,
                undocumented=undocumented,
                losses=model_losses,
            )
        )
    lines.sort(key=lambda line: (-line.total, line.model.name))
    return lines


def conflict_ledger(*, conflict: Conflict) -> ConflictLedger:
    """Return the tracker-style ledger of a conflict: per side, per category, per model."""
    tally = tally_count(conflict=conflict, rule=TallyRule())
    depictions = Depiction.objects.filter(
        deleted_at__isnull=True, evidence__deleted_at__isnull=True
    ).select_related("evidence")
    losses = list(
        public_losses()
        .filter(conflict=conflict)
        .order_by()  # numbered per model below; an ORDER BY here only costs the planner
        .select_related("model")
        .only(
            "id",
            "side_id",
            "fate",
            "first_seen",
            "is_sample",
            "model__id",
            "model__name",
            "model__slug",
            "model__category_id",
        )
        .prefetch_related(Prefetch("depictions", queryset=depictions, to_attr="public_depictions"))
    )
    categories = {c.pk: c for c in Category.objects.all()}
    sides = []
    for side in Side.objects.filter(conflict=conflict):
        side_losses = [x for x in losses if x.side_id == side.pk]
        by_category: dict[int, list[Loss]] = defaultdict(list)
        for loss in side_losses:
            by_category[loss.model.category_id].append(loss)
        blocks = []
        for category_id, category_losses in by_category.items():
            by_fate = _split(category_losses)
            blocks.append(
                CategoryBlock(
                    category=categories[category_id],
                    counts=_fate_counts(len(category_losses), by_fate),
                    lines=_model_lines(category_losses),
                )
            )
        blocks.sort(key=lambda b: (b.category.order, b.category.name))
        side_by_fate = {f.value: tally.by_side_fate.get((side.pk, f.value), 0) for f in FATE_ORDER}
        sides.append(
            SideBlock(
                side=side,
                counts=_fate_counts(tally.by_side.get(side.pk, 0), side_by_fate),
                categories=blocks,
            )
        )
    claims = list(
        Claim.objects.filter(
            conflict=conflict, status=ReviewStatus.VERIFIED, deleted_at__isnull=True
        ).order_by("-claimed_on")
    )
    return ConflictLedger(
        conflict=conflict,
        sides=sides,
        has_sample=any(x.is_sample for x in losses) or any(c.is_sample for c in claims),
        tally=tally,
        claims=claims,
    )


def _split(losses: list[Loss]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for loss in losses:
        counts[loss.fate] += 1
    return counts


# --- Filtered lists: one filter for the search page, the API, the feed and the exports ---------

SORTS = ("-first_seen", "first_seen", "-id", "id")
DEFAULT_SORT = "-first_seen"
PERIODS = ("day", "week", "month", "year")
STAT_DIMENSIONS = ("side", "category", "model", "fate", "period", "province", "district")
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
    return public_losses().filter(conflict__is_public=True)


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


# --- Sorting and cursor pagination --------------------------------------------------------------


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
    items = list(qs.order_by(*order)[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return LossPage(
        items=items, next_cursor=_cursor_encode(sort, items[-1]) if more else None, sort=sort
    )


# --- Statistics ---------------------------------------------------------------------------------

_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


@dataclass
class StatRow:
    """One group of a count: its key per dimension (slugs, codes, a period start) and the count."""

    key: dict[str, str | None]
    count: int


@dataclass
class Stats:
    total: int
    by: list[str]
    period: str
    rows: list[StatRow]
    labels: dict[str, dict[str, str]]


def losses_stats(*, queryset: QuerySet[Loss], by: list[str], period: str = "month") -> Stats:
    """Count `queryset` grouped by any of side, category, model, fate, period, province, district.

    Grouped in the database on raw columns (side, model, fate, unit, period start), then folded in
    Python into the requested dimensions: categories and provinces are lookups of those columns.
    """
    unknown = [d for d in by if d not in STAT_DIMENSIONS]
    if unknown or len(set(by)) != len(by):
        raise InvalidInput(
            f"group by one or more of {', '.join(STAT_DIMENSIONS)}, each once",
            details={"by": by},
        )
    if period not in PERIODS:
        raise InvalidInput(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")
    columns: list[str] = []
    if "side" in by:
        columns.append("side_id")
    if "model" in by or "category" in by:
        columns.append("model_id")
    if "fate" in by:
        columns.append("fate")
    if "province" in by or "district" in by:
        columns.append("admin_unit_id")
    qs = queryset.order_by()
    if "period" in by:
        qs = qs.annotate(period_start=_TRUNC[period]("first_seen"))
        columns.append("period_start")
    grouped = qs.values(*columns).annotate(n=Count("pk")) if columns else []
    labels: dict[str, dict[str, str]] = {d: {} for d in by if d not in ("fate", "period")}
    lookups = _stat_lookups(by, labels)
    folded: Counter[tuple[str | None, ...]] = Counter()
    total = 0
    if not columns:
        total = queryset.order_by().count()
    for row in grouped:
        key = tuple(_stat_key(d, row, lookups, period) for d in by)
        folded[key] += row["n"]
        total += row["n"]
    rows = [StatRow(key=dict(zip(by, key, strict=True)), count=n) for key, n in folded.items()]
    if "period" in by:  # a time series: in time order, unknown dates last
        rows.sort(key=lambda r: [v or "~" for v in r.key.values()])
    else:  # largest first
        rows.sort(key=lambda r: (-r.count, [v or "~" for v in r.key.values()]))
    return Stats(total=total, by=by, period=period, rows=rows, labels=labels)


@dataclass
class _Lookups:
    side: dict[int, str] = field(default_factory=dict)
    model: dict[int, str] = field(default_factory=dict)
    category_of_model: dict[int, str] = field(default_factory=dict)
    district: dict[int, str | None] = field(default_factory=dict)
    province: dict[int, str | None] = field(default_factory=dict)


def _stat_lookups(by: list[str], labels: dict[str, dict[str, str]]) -> _Lookups:
    found = _Lookups()
    if "side" in by:
        for pk, slug, name in Side.objects.values_list("id", "slug", "short_name"):
            found.side[pk] = slug
            labels["side"][slug] = name
    if "model" in by or "category" in by:
        rows = EquipmentModel.objects.values_list(
            "id", "slug", "name", "category__slug", "category__name"
        )
        for pk, slug, name, category_slug, category_name in rows:
            found.model[pk] = slug
            found.category_of_model[pk] = category_slug
            if "model" in by:
                labels["model"][slug] = name
            if "category" in by:
                labels["category"][category_slug] = category_name
    if "province" in by or "district" in by:
        units = AdminUnit.objects.filter(level__gte=AdminUnit.Level.PROVINCE).values_list(
            "id", "code", "name", "level", "parent__code", "parent__name"
        )
        for pk, code, name, level, parent_code, parent_name in units:
            if level == AdminUnit.Level.PROVINCE:
                found.province[pk], found.district[pk] = code, None
                if "province" in by:
                    labels["province"][code] = name
            else:
                found.province[pk], found.district[pk] = parent_code, code
                if "district" in by:
                    labels["district"][code] = name
                if "province" in by and parent_code:
                    labels["province"][parent_code] = parent_name
    return found


def _stat_key(dim: str, row: dict[str, Any], lookups: _Lookups, period: str) -> str | None:
    if dim == "side":
        return lookups.side.get(row["side_id"])
    if dim == "model":
        return lookups.model.get(row["model_id"])
    if dim == "category":
        return lookups.category_of_model.get(row["model_id"])
    if dim == "fate":
        return str(row["fate"])
    if dim == "period":
        start = row["period_start"]
        if start is None:
            return None
        day = start.date() if isinstance(start, dt.datetime) else start
        return str(day.isoformat()[: 7 if period == "month" else 4 if period == "year" else 10])
    unit = row["admin_unit_id"]
    if unit is None:
        return None
    return lookups.province.get(unit) if dim == "province" else lookups.district.get(unit)


# --- The data version: what ETags, Last-Modified and snapshots are keyed on --------------------


def ledger_changed_at() -> dt.datetime | None:
    """Return when any loss last changed (any status: a change may remove a public one)."""
    changed: dt.datetime | None = Loss.objects.aggregate(last=Max("updated_at"))["last"]
    return changed


# --- What changed: newly verified losses, and the counts now against a past moment -------------


def losses_recently_verified(
    *, conflict: Conflict | None = None, since: dt.datetime | None = None, limit: int = 50
) -> list[tuple[Loss, dt.datetime]]:
    """Return public losses with the moment each was first verified, latest first."""
    versions = LossVersion._default_manager.filter(status=ReviewStatus.VERIFIED)
    if conflict is not None:
        versions = versions.filter(conflict_id=conflict.pk)
    firsts = versions.order_by().values("record_id").annotate(at=Min("valid_from"))
    if since is not None:
        firsts = firsts.filter(at__gte=since)
    found: dict[int, dt.datetime] = {}
    # Read a few more than asked: some first verified are no longer public.
    for row in firsts.order_by("-at", "-record_id")[: limit * 2 + 10]:
        found[row["record_id"]] = row["at"]
    losses = (
        public_ledger()
        .filter(pk__in=list(found))
        .select_related("conflict", "side", "model__category", "admin_unit")
    )
    pairs = [(loss, found[loss.pk]) for loss in losses]
    pairs.sort(key=lambda pair: (pair[1], pair[0].pk), reverse=True)
    return pairs[:limit]


@dataclass
class SideChange:
    side: Side
    now: int
    then: int

    @property
    def delta(self) -> int:
        return self.now - self.then


@dataclass
class LedgerChange:
    """How a conflict's counts moved since a past moment, and what was verified since."""

    label: str
    since: dt.datetime
    total_now: int
    total_then: int
    sides: list[SideChange]
    fates: list[tuple[str, int]]  # (fate, change)
    new: list[tuple[Loss, dt.datetime]]

    @property
    def delta(self) -> int:
        return self.total_now - self.total_then


def ledger_changes(
    *, conflict: Conflict, now: dt.datetime, periods: list[tuple[str, dt.timedelta]]
) -> list[LedgerChange]:
    """Return, per (label, period back), the counts then against now and the newly verified."""
    current = tally_count(conflict=conflict)
    sides = list(Side.objects.filter(conflict=conflict))
    changes = []
    for label, back in periods:
        since = now - back
        then = tally_count(conflict=conflict, as_of=since)
        changes.append(
            LedgerChange(
                label=label,
                since=since,
                total_now=current.total,
                total_then=then.total,
                sides=[
                    SideChange(
                        side=s, now=current.by_side.get(s.pk, 0), then=then.by_side.get(s.pk, 0)
                    )
                    for s in sides
                ],
                fates=[
                    (f.value, current.by_fate.get(f.value, 0) - then.by_fate.get(f.value, 0))
                    for f in FATE_ORDER
                ],
                new=losses_recently_verified(conflict=conflict, since=since, limit=20),
            )
        )
    return changes
