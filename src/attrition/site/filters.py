"""The search form of the public site: its choices, read from the ledger, and the query it sends.

Parsing and applying the filter is losses.selectors.LossFilter / losses_filter(), the same code
as the API's list and the downloads, so a download of a search holds exactly what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.losses.choices import FATE_ORDER
from attrition.losses.exports import EXPORT_FORMATS
from attrition.losses.models import Tag
from attrition.losses.selectors import DEFAULT_SORT, SORTS, LossFilter
from attrition.territory.models import AdminUnit

SORT_LABELS = {
    "-first_seen": "newest sighting first",
    "first_seen": "oldest sighting first",
    "-id": "latest recorded first",
    "id": "earliest recorded first",
}


@dataclass
class Choice:
    value: str
    label: str
    selected: bool = False


@dataclass
class FilterForm:
    """The choices of each field of the search form, with the current ones selected."""

    filters: LossFilter
    sort: str
    conflicts: list[Choice] = field(default_factory=list)
    sides: list[Choice] = field(default_factory=list)
    categories: list[Choice] = field(default_factory=list)
    models: list[Choice] = field(default_factory=list)
    fates: list[Choice] = field(default_factory=list)
    places: list[Choice] = field(default_factory=list)
    tags: list[Choice] = field(default_factory=list)
    sorts: list[Choice] = field(default_factory=list)

    def query(self, **extra: str) -> str:
        """Return the query string of this search (plus `extra`), for links and downloads."""
        pairs = self.filters.query_pairs()
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        pairs.extend(extra.items())
        return urlencode(pairs)

    def exports(self) -> list[tuple[str, str]]:
        """Return (format, URL) of each download of exactly this search."""
        query = urlencode([*self.filters.query_pairs(), ("sort", self.sort)])
        return [(fmt, f"/api/v1/exports/losses.{fmt}?{query}") for fmt in EXPORT_FORMATS]


def filter_form(filters: LossFilter, sort: str = DEFAULT_SORT) -> FilterForm:
    """Return the search form for the current filter."""
    form = FilterForm(filters=filters, sort=sort if sort in SORTS else DEFAULT_SORT)
    conflicts = list(Conflict.objects.filter(is_public=True))
    form.conflicts = [Choice(c.slug, c.name, c.slug == filters.conflict) for c in conflicts]
    chosen = next((c for c in conflicts if c.slug == filters.conflict), None)
    sides = Side.objects.filter(conflict__is_public=True).select_related("conflict")
    if chosen is not None:
        sides = sides.filter(conflict=chosen)
    seen: set[str] = set()
    for side in sides:
        if side.slug in seen:
            continue
        seen.add(side.slug)
        label = side.short_name if chosen else f"{side.short_name} ({side.conflict.name})"
        form.sides.append(Choice(side.slug, label, side.slug in filters.side))
    form.categories = [
        Choice(c.slug, c.name, c.slug in filters.category) for c in Category.objects.all()
    ]
    models = EquipmentModel.objects.select_related("category").only(
        "slug", "name", "category__name", "category__order"
    )
    form.models = [Choice(m.slug, m.name, m.slug in filters.model) for m in models]
    form.fates = [Choice(f.value, f.label, f in filters.fate) for f in FATE_ORDER]
    if chosen is not None and chosen.boundary_set_id is not None:
        units = (
            AdminUnit.objects.filter(
                boundary_set_id=chosen.boundary_set_id, level__gte=AdminUnit.Level.PROVINCE
            )
            .select_related("parent")
            .only("code", "name", "level", "parent__name")
            .order_by("level", "name")
        )
        form.places = [Choice(u.code, _place_label(u), u.code in filters.place) for u in units]
    form.tags = [Choice(t.slug, t.name, t.slug in filters.tag) for t in Tag.objects.all()]
    form.sorts = [Choice(s, SORT_LABELS[s], s == form.sort) for s in SORTS]
    return form


def _place_label(unit: AdminUnit) -> str:
    if unit.level == AdminUnit.Level.DISTRICT:
        return str(unit)
    return f"{unit.name} (province)"
