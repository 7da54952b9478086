"""Read and validate the reference data files: one pydantic model per record, clear errors."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attrition.catalog.services import alias_normalize
from attrition.errors import AttritionError

DATA_DIR = Path(__file__).resolve().parent / "data"


class ReferenceDataError(AttritionError):
    """A reference data file is missing, unreadable, or holds a record that does not fit."""

    code = "reference_data_invalid"
    status = 500


# -- the shape of the files ------------------------------------------------------------------

Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][-A-Za-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Source = Literal["oryx", "warspotting", "lostarmour", "csv"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CategoryIn(_Record):
    slug: Slug
    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: str = ""
    order: Annotated[int, Field(ge=0, le=32767)]


class MappingIn(_Record):
    source: Source
    source_category: Text
    category: Slug
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: Annotated[str, Field(max_length=300)] = ""

    @model_validator(mode="after")
    def _period(self) -> MappingIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class ModelIn(_Record):
    slug: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[-a-zA-Z0-9_]+$")]
    name: Text
    category: Slug
    country: Annotated[str, Field(pattern=r"^([A-Z]{2})?$")] = ""
    description: str = ""
    aliases: list[Text] = []


class SideIn(_Record):
    slug: Slug
    name: Text
    short_name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str = ""
    colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
    order: Annotated[int, Field(ge=0, le=32767)] = 0


class ConflictIn(_Record):
    slug: Slug
    name: Text
    description: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    extent: tuple[float, float, float, float] | None = None
    boundary_set: Slug | None = None
    sides: list[SideIn] = []

    @model_validator(mode="after")
    def _consistent(self) -> ConflictIn:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.extent is not None:
            west, south, east, north = self.extent
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise ValueError("extent must be [west, south, east, north] in WGS84 degrees")
        if len({s.slug for s in self.sides}) != len(self.sides):
            raise ValueError("two sides share a slug")
        return self


class BoundarySetIn(_Record):
    slug: Slug
    name: Text
    source: Annotated[str, Field(min_length=1)]
    licence: Annotated[str, Field(min_length=1, max_length=64)]
    attribution: Annotated[str, Field(min_length=1)]
    unit_files: list[str]
    # A CSV of (code, country, length_km): the international border each unit shares.
    border_file: str | None = None


class UnitIn(_Record):
    code: Code
    level: Literal[0, 1, 2]
    parent: Code | None
    name: Text
    name_local: Annotated[str, Field(max_length=200)] = ""
    area_km2: Annotated[float, Field(ge=0)] | None = None
    label_lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    label_lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    border_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = []
    geometry: dict[str, Any] | None = None

    @field_validator("geometry")
    @classmethod
    def _polygonal(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (
            value.get("type") not in ("Polygon", "MultiPolygon")
            or not isinstance(value.get("coordinates"), list)
        ):
            raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon")
        return value

    @model_validator(mode="after")
    def _parented(self) -> UnitIn:
        if (self.level == 0) != (self.parent is None):
            raise ValueError("a country (level 0) has no parent; every other unit has one")
        return self


class UnitAliasesIn(_Record):
    province: Code
    district: Code | None = None
    aliases: list[Text]

    @model_validator(mode="after")
    def _nested(self) -> UnitAliasesIn:
        if self.district is not None and not self.district.startswith(f"{self.province}-"):
            raise ValueError(f"district {self.district!r} is not in province {self.province!r}")
        return self

    @property
    def code(self) -> str:
        """Return the code of the unit these aliases name."""
        return self.district or self.province


class BorderIn(_Record):
    code: Code
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    length_km: Annotated[float, Field(gt=0)]


@dataclass(frozen=True)
class BoundarySetData:
    """A boundary set and its units, parents before children, and its border lengths."""

    record: BoundarySetIn
    units: list[UnitIn]
    borders: list[BorderIn] = field(default_factory=list)


@dataclass(frozen=True)
class ReferenceData:
    """Every reference data file, read and validated."""

    categories: list[CategoryIn]
    mappings: list[MappingIn]
    models: list[ModelIn]
    boundary_sets: list[BoundarySetData]
    unit_aliases: dict[str, list[UnitAliasesIn]]
    conflicts: list[ConflictIn]


R = TypeVar("R", bound=BaseModel)


def _read(path: Path, *, root: Path) -> Any:
    name = _name(path, root=root)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        return json.loads(raw)
    except FileNotFoundError:
        raise ReferenceDataError(f"{name}: file not found") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{name}: cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReferenceDataError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None


def _name(path: Path, *, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _problem(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def _record(schema: type[R], raw: Any, *, where: str) -> R:
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise ReferenceDataError(f"{where}: {_problem(exc)}") from None


def _describe(raw: Any, index: int) -> str:
    label = f"record {index + 1}"
    if isinstance(raw, dict):
        for key in ("slug", "code", "source_category", "district", "province", "name"):
            if isinstance(raw.get(key), str):
                return f"{label} ({key} {raw[key]!r})"
    return label


def _records(schema: type[R], items: Any, *, name: str) -> list[R]:
    if not isinstance(items, list):
        raise ReferenceDataError(f"{name}: expected a JSON list of records")
    return [
        _record(schema, raw, where=f"{name}: {_describe(raw, i)}") for i, raw in enumerate(items)
    ]


def _units(path: Path, *, root: Path) -> list[UnitIn]:
    name = _name(path, root=root)
    data = _read(path, root=root)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ReferenceDataError(f"{name}: expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise ReferenceDataError(f"{name}: expected a list of features")
    units = []
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        where = f"{name}: {_describe(props, i)}"
        if not isinstance(props, dict):
            raise ReferenceDataError(f"{where}: a feature needs a properties object")
        units.append(_record(UnitIn, {**props, "geometry": feature.get("geometry")}, where=where))
    return units


def _boundary_set(path: Path, *, root: Path) -> BoundarySetData:
    name = _name(path, root=root)
    record = _record(BoundarySetIn, _read(path, root=root), where=name)
    units = [u for f in record.unit_files for u in _units(path.parent / f, root=root)]
    levels: dict[str, int] = {}
    for unit in units:
        where = f"{name}: unit {unit.code!r}"
        if unit.code in levels:
            raise ReferenceDataError(f"{where}: the code appears twice")
        parent_level = levels.get(unit.parent) if unit.parent else None
        if unit.parent and parent_level != unit.level - 1:
            raise ReferenceDataError(
                f"{where}: parent {unit.parent!r} must come earlier, one level up"
            )
        levels[unit.code] = unit.level
    borders = _borders(path.parent / record.border_file, root=root) if record.border_file else []
    seen: set[tuple[str, str]] = set()
    for border in borders:
        where = f"{record.border_file}: {border.code} / {border.country}"
        if border.code not in levels:
            raise ReferenceDataError(f"{where}: no unit {border.code!r} in {record.slug!r}")
        if (border.code, border.country) in seen:
            raise ReferenceDataError(f"{where}: the pair appears twice")
        seen.add((border.code, border.country))
    return BoundarySetData(record=record, units=units, borders=borders)


def _borders(path: Path, *, root: Path) -> list[BorderIn]:
    name = _name(path, root=root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReferenceDataError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{name}: cannot be read: {exc}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    return [_record(BorderIn, row, where=f"{name}: line {i + 2}") for i, row in enumerate(rows)]


def _unit_aliases(path: Path, *, root: Path) -> dict[str, list[UnitAliasesIn]]:
    name = _name(path, root=root)
    data = _read(path, root=root)
    if not isinstance(data, dict) or not isinstance(data.get("boundary_set"), str):
        raise ReferenceDataError(f"{name}: expected {{'boundary_set': slug, 'units': [...]}}")
    return {data["boundary_set"]: _records(UnitAliasesIn, data.get("units"), name=name)}


def _check_models(models_in: list[ModelIn], categories: set[str]) -> None:
    owner: dict[str, str] = {}
    for model in models_in:
        where = f"equipment_models.json: model {model.slug!r}"
        if model.category not in categories:
            raise ReferenceDataError(f"{where}: unknown category {model.category!r}")
        for alias in (model.name, *model.aliases):
            normalized = alias_normalize(alias)
            if not normalized:
                raise ReferenceDataError(f"{where}: alias {alias!r} has no letters or digits")
            if normalized in owner:
                raise ReferenceDataError(
                    f"{where}: alias {alias!r} normalises to {normalized!r}, "
                    f"already used by model {owner[normalized]!r}"
                )
            owner[normalized] = model.slug


def _check_unique(records: Iterable[Any], *, key: str, name: str) -> None:
    seen: set[Any] = set()
    for record in records:
        value = getattr(record, key)
        if value in seen:
            raise ReferenceDataError(f"{name}: {key} {value!r} appears twice")
        seen.add(value)


def _check(data: ReferenceData) -> None:
    _check_unique(data.categories, key="slug", name="categories.json")
    _check_unique(data.categories, key="name", name="categories.json")
    _check_unique(data.models, key="slug", name="equipment_models.json")
    _check_unique(data.models, key="name", name="equipment_models.json")
    _check_unique(data.conflicts, key="slug", name="conflicts")
    slugs = {c.slug for c in data.categories}
    keys: set[tuple[str, str, dt.date | None]] = set()
    for mapping in data.mappings:
        where = f"category_mappings.json: {mapping.source} {mapping.source_category!r}"
        if mapping.category not in slugs:
            raise ReferenceDataError(f"{where}: unknown category {mapping.category!r}")
        key = (mapping.source, mapping.source_category, mapping.valid_from)
        if key in keys:
            raise ReferenceDataError(f"{where}: the same mapping appears twice")
        keys.add(key)
    _check_models(data.models, slugs)
    codes = {b.record.slug: {u.code for u in b.units} for b in data.boundary_sets}
    for set_slug, entries in data.unit_aliases.items():
        for entry in entries:
            if entry.code not in codes.get(set_slug, set()):
                raise ReferenceDataError(
                    f"admin_unit_aliases.json: no unit {entry.code!r} in boundary set {set_slug!r}"
                )


def reference_read(*, data_dir: Path | None = None) -> ReferenceData:
    """Return every reference data file under `data_dir`, validated, or raise ReferenceDataError."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    data = ReferenceData(
        categories=_records(
            CategoryIn, _read(root / "categories.json", root=root), name="categories.json"
        ),
        mappings=_records(
            MappingIn,
            _read(root / "category_mappings.json", root=root),
            name="category_mappings.json",
        ),
        models=_records(
            ModelIn, _read(root / "equipment_models.json", root=root), name="equipment_models.json"
        ),
        boundary_sets=[
            _boundary_set(p, root=root) for p in sorted((root / "boundary_sets").glob("*.json"))
        ],
        unit_aliases=_unit_aliases(root / "admin_unit_aliases.json", root=root),
        conflicts=[
            _record(ConflictIn, _read(p, root=root), where=_name(p, root=root))
            for p in sorted((root / "conflicts").glob("*.json"))
        ],
    )
    _check(data)
    return data
