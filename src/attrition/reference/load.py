"""Load the reference data shipped in the package: taxonomy, tracker mappings, models, places.

The rule for rows that already exist (what a self-hosting admin can rely on):

1. The loader creates what is missing, keyed on slugs and codes, and never deletes anything.
2. It changes an existing row only where it can prove nobody else has edited the field since
   reference data last wrote it. Only equipment models keep a version history that shows who
   wrote each value, so only their fields (name, category, country, description) are updated,
   and only while the last change to the field came from this loader. Every other kind of row
   (categories, mappings, aliases, boundaries, conflicts, sides) is left as it is once it exists.
3. A row an admin deleted comes back on the next load: the loader cannot tell removal from absence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.db import models, transaction

from attrition import history
from attrition.catalog.models import (
    Category,
    CategoryMapping,
    Conflict,
    EquipmentModel,
    ModelAlias,
    Side,
)
from attrition.catalog.services import alias_normalize
from attrition.reference.files import (
    BoundarySetData,
    CategoryIn,
    ConflictIn,
    MappingIn,
    ModelIn,
    ReferenceDataError,
    UnitAliasesIn,
    UnitIn,
    reference_read,
)
from attrition.territory.models import AdminUnit, AdminUnitAlias, BorderSegment, BoundarySet

VIA = "reference"
MODEL_FIELDS = ("name", "category_id", "country_of_production", "description")


@dataclass(frozen=True)
class Outcome:
    """How many rows of one kind the load created and updated, out of how many it ships."""

    created: int
    updated: int
    total: int


def _refuse_name_clash(
    model: type[models.Model], wanted: dict[str, str], *, name: str, scope: dict[str, Any]
) -> None:
    """Fail when a row we would create takes a name that another slug already holds."""
    clash = (
        model._default_manager.filter(name__in=wanted.values(), **scope)
        .exclude(slug__in=wanted.keys())
        .values_list("slug", "name")
        .first()
    )
    if clash is not None:
        raise ReferenceDataError(
            f"{name}: the name {clash[1]!r} already belongs to {clash[0]!r}; rename or re-slug "
            "that record, then load again"
        )


def _load_categories(records: list[CategoryIn]) -> Outcome:
    have = set(
        Category.objects.filter(slug__in=[r.slug for r in records]).values_list("slug", flat=True)
    )
    missing = [r for r in records if r.slug not in have]
    _refuse_name_clash(
        Category, {r.slug: r.name for r in missing}, name="categories.json", scope={}
    )
    Category.objects.bulk_create(
        Category(slug=r.slug, name=r.name, description=r.description, order=r.order)
        for r in missing
    )
    return Outcome(created=len(missing), updated=0, total=len(records))


def _category_ids() -> dict[str, int]:
    return dict(Category.objects.values_list("slug", "id"))


def _load_mappings(records: list[MappingIn]) -> Outcome:
    have = set(CategoryMapping.objects.values_list("source", "source_category", "valid_from"))
    ids = _category_ids()
    missing = [r for r in records if (r.source, r.source_category, r.valid_from) not in have]
    CategoryMapping.objects.bulk_create(
        CategoryMapping(
            source=r.source,
            source_category=r.source_category,
            category_id=ids[r.category],
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            note=r.note,
        )
        for r in missing
    )
    return Outcome(created=len(missing), updated=0, total=len(records))


def _reference_owned(instances: Sequence[EquipmentModel]) -> dict[int, set[str]]:
    """Return, per model id, the fields whose present value the reference loader wrote last."""
    versions = history.versions_of(EquipmentModel)._default_manager
    rows = (
        versions.filter(record_id__in=[m.pk for m in instances])
        .order_by("record_id", "version")
        .values("record_id", "changed_via", *MODEL_FIELDS)
    )
    writer: dict[tuple[int, str], str] = {}
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        before = latest.get(row["record_id"])
        for field in MODEL_FIELDS:
            if before is None or before[field] != row[field]:
                writer[(row["record_id"], field)] = row["changed_via"]
        latest[row["record_id"]] = row
    owned: dict[int, set[str]] = {}
    for model in instances:
        last = latest.get(model.pk)
        for field in MODEL_FIELDS:
            # A value that differs from the last version was edited without a version: not ours.
            if (
                last is not None
                and writer.get((model.pk, field)) == VIA
                and getattr(model, field) == last[field]
            ):
                owned.setdefault(model.pk, set()).add(field)
    return owned


def _load_models(records: list[ModelIn]) -> Outcome:
    ids = _category_ids()
    existing = {
        m.slug: m for m in EquipmentModel.objects.filter(slug__in=[r.slug for r in records])
    }
    owned = _reference_owned(list(existing.values()))
    to_create: list[EquipmentModel] = []
    to_update: list[tuple[EquipmentModel, list[str]]] = []
    for r in records:
        values = {
            "name": r.name,
            "category_id": ids[r.category],
            "country_of_production": r.country,
            "description": r.description,
        }
        model = existing.get(r.slug)
        if model is None:
            to_create.append(EquipmentModel(slug=r.slug, **values))
            continue
        fields = [f for f in owned.get(model.pk, ()) if getattr(model, f) != values[f]]
        for field in fields:
            setattr(model, field, values[field])
        if fields:
            to_update.append((model, sorted(fields)))
    wanted = {m.slug: m.name for m in to_create} | {m.slug: m.name for m, _ in to_update}
    _refuse_name_clash(EquipmentModel, wanted, name="equipment_models.json", scope={})
    EquipmentModel.objects.bulk_create(to_create)
    for model, fields in to_update:
        model.save(update_fields=[*fields, "updated_at"])
    created = EquipmentModel.objects.filter(slug__in=[m.slug for m in to_create])
    for instance in [*created, *(m for m, _ in to_update)]:
        history.record_version(
            instance, kind=history.ChangeKind.IMPORT, reason="reference data", via=VIA
        )
    return Outcome(created=len(to_create), updated=len(to_update), total=len(records))


def _load_model_aliases(records: list[ModelIn]) -> Outcome:
    ids = dict(
        EquipmentModel.objects.filter(slug__in=[r.slug for r in records]).values_list("slug", "id")
    )
    wanted = {
        alias_normalize(alias): (ids[r.slug], " ".join(alias.split()))
        for r in records
        for alias in (r.name, *r.aliases)
    }
    # An alias an admin moved to another model stays where the admin put it.
    have = set(
        ModelAlias.objects.filter(normalized__in=wanted).values_list("normalized", flat=True)
    )
    missing = [(n, v) for n, v in wanted.items() if n not in have]
    ModelAlias.objects.bulk_create(
        ModelAlias(model_id=model_id, alias=alias, normalized=normalized)
        for normalized, (model_id, alias) in missing
    )
    return Outcome(created=len(missing), updated=0, total=len(wanted))


def _load_boundary_sets(sets: list[BoundarySetData]) -> Outcome:
    have = set(BoundarySet.objects.values_list("slug", flat=True))
    missing = [b.record for b in sets if b.record.slug not in have]
    BoundarySet.objects.bulk_create(
        BoundarySet(
            slug=r.slug, name=r.name, source=r.source, attribution=r.attribution, licence=r.licence
        )
        for r in missing
    )
    return Outcome(created=len(missing), updated=0, total=len(sets))


def _load_units(sets: list[BoundarySetData]) -> Outcome:
    created = total = 0
    for data in sets:
        boundary_set = BoundarySet.objects.get(slug=data.record.slug)
        units = AdminUnit.objects.filter(boundary_set=boundary_set)
        ids = dict(units.values_list("code", "id"))
        total += len(data.units)
        for level in (0, 1, 2):
            missing = [u for u in data.units if u.level == level and u.code not in ids]
            AdminUnit.objects.bulk_create(
                (
                    _unit(u, boundary_set=boundary_set, parent_id=ids.get(u.parent or ""))
                    for u in missing
                ),
                batch_size=200,
            )
            created += len(missing)
            if missing:
                ids = dict(units.values_list("code", "id"))
    return Outcome(created=created, updated=0, total=total)


def _unit(unit: UnitIn, *, boundary_set: BoundarySet, parent_id: int | None) -> AdminUnit:
    if unit.parent and parent_id is None:
        raise ReferenceDataError(
            f"{boundary_set.slug}: parent {unit.parent!r} of {unit.code!r} is missing"
        )
    return AdminUnit(
        boundary_set=boundary_set,
        level=unit.level,
        code=unit.code,
        name=unit.name,
        name_local=unit.name_local,
        parent_id=parent_id,
        area_km2=unit.area_km2,
        label_lon=unit.label_lon,
        label_lat=unit.label_lat,
        border_countries=list(unit.border_countries),
        geometry=unit.geometry,
    )


def _load_borders(sets: list[BoundarySetData]) -> Outcome:
    created = total = 0
    for data in sets:
        ids = dict(
            AdminUnit.objects.filter(boundary_set__slug=data.record.slug).values_list("code", "id")
        )
        have = set(
            BorderSegment.objects.filter(unit_id__in=ids.values()).values_list("unit_id", "country")
        )
        missing = [b for b in data.borders if (ids[b.code], b.country) not in have]
        BorderSegment.objects.bulk_create(
            BorderSegment(unit_id=ids[b.code], country=b.country, length_km=b.length_km)
            for b in missing
        )
        created += len(missing)
        total += len(data.borders)
    return Outcome(created=created, updated=0, total=total)


def _load_unit_aliases(by_set: dict[str, list[UnitAliasesIn]]) -> Outcome:
    created = total = 0
    for set_slug, entries in by_set.items():
        ids = dict(AdminUnit.objects.filter(boundary_set__slug=set_slug).values_list("code", "id"))
        wanted = {
            (ids[e.code], alias_normalize(a)): " ".join(a.split())
            for e in entries
            for a in e.aliases
        }
        have = set(
            AdminUnitAlias.objects.filter(unit_id__in=ids.values()).values_list(
                "unit_id", "normalized"
            )
        )
        missing = [(key, alias) for key, alias in wanted.items() if key not in have]
        AdminUnitAlias.objects.bulk_create(
            AdminUnitAlias(unit_id=unit_id, alias=alias, normalized=normalized)
            for (unit_id, normalized), alias in missing
        )
        created += len(missing)
        total += len(wanted)
    return Outcome(created=created, updated=0, total=total)


def _load_conflicts(records: list[ConflictIn]) -> tuple[Outcome, dict[str, Conflict]]:
    have = {c.slug: c for c in Conflict.objects.filter(slug__in=[r.slug for r in records])}
    missing = [r for r in records if r.slug not in have]
    _refuse_name_clash(Conflict, {r.slug: r.name for r in missing}, name="conflicts", scope={})
    sets = dict(BoundarySet.objects.values_list("slug", "id"))
    for r in missing:
        if r.boundary_set is not None and r.boundary_set not in sets:
            raise ReferenceDataError(
                f"conflicts: conflict {r.slug!r} names an unknown boundary set {r.boundary_set!r}"
            )
        have[r.slug] = Conflict.objects.create(
            slug=r.slug,
            name=r.name,
            description=r.description,
            period_start=r.period_start,
            period_end=r.period_end,
            extent=list(r.extent) if r.extent is not None else None,
            boundary_set_id=sets.get(r.boundary_set or ""),
        )
    return Outcome(created=len(missing), updated=0, total=len(records)), have


def _load_sides(records: list[ConflictIn], conflicts: dict[str, Conflict]) -> Outcome:
    created = total = 0
    for r in records:
        conflict = conflicts[r.slug]
        slugs = set(conflict.sides.values_list("slug", flat=True))
        new = [s for s in r.sides if s.slug not in slugs]
        where = f"conflicts: conflict {r.slug!r}"
        _refuse_name_clash(
            Side, {s.slug: s.name for s in new}, name=where, scope={"conflict": conflict}
        )
        Side.objects.bulk_create(
            Side(
                conflict=conflict,
                slug=s.slug,
                name=s.name,
                short_name=s.short_name,
                description=s.description,
                colour=s.colour,
                order=s.order,
            )
            for s in new
        )
        created += len(new)
        total += len(r.sides)
    return Outcome(created=created, updated=0, total=total)


def reference_load(*, stdout: TextIO | None = None, data_dir: Path | None = None) -> dict[str, int]:
    """Load the reference data in one transaction and return '<kind>.created'/'.updated' counts."""
    data = reference_read(data_dir=data_dir)
    with transaction.atomic():
        outcomes = {
            "categories": _load_categories(data.categories),
            "category_mappings": _load_mappings(data.mappings),
            "equipment_models": _load_models(data.models),
            "model_aliases": _load_model_aliases(data.models),
            "boundary_sets": _load_boundary_sets(data.boundary_sets),
            "admin_units": _load_units(data.boundary_sets),
            "border_segments": _load_borders(data.boundary_sets),
            "admin_unit_aliases": _load_unit_aliases(data.unit_aliases),
        }
        outcomes["conflicts"], conflicts = _load_conflicts(data.conflicts)
        outcomes["sides"] = _load_sides(data.conflicts, conflicts)
    counts: dict[str, int] = {}
    for kind, outcome in outcomes.items():
        counts[f"{kind}.created"] = outcome.created
        counts[f"{kind}.updated"] = outcome.updated
        if stdout is not None:
            unchanged = outcome.total - outcome.created - outcome.updated
            stdout.write(
                f"{kind}: {outcome.created} created, {outcome.updated} updated, "
                f"{unchanged} unchanged\n"
            )
    return counts
