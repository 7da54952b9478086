"""Read one CSV row through a mapping into ledger values, naming every cell that is wrong.

Look-ups (conflicts, sides, models, categories, admin units) are cached for the whole file, so
a row costs queries only for names not seen before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from attrition.catalog.models import Category, CategoryMapping, Conflict, EquipmentModel, Side
from attrition.catalog.services import alias_normalize, model_lookup
from attrition.errors import InvalidInput
from attrition.evidence.services import url_canonical
from attrition.importers.csv_generic.mapping import FieldSpec, MappingSpec
from attrition.importers.registry import ImportOptions, ImportRefused
from attrition.losses.choices import DatePrecision, Fate, PlacePrecision
from attrition.spreadsheet import cell_text
from attrition.territory.models import AdminUnit

MAX_ID = 250
MAX_TEXT = 300
MAX_NOTES = 10_000
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n", ""}
# "captured and later destroyed", "damaged and abandoned": states joined outside parentheses.
FATE_JOIN = re.compile(r"\s+and\s+(?:later\s+|then\s+)?", re.I)
FATE_PART = re.compile(r"^(?P<word>[^()]+?)\s*(?:\((?P<detail>.*)\))?$", re.S)
URL_SPLIT = re.compile(r"[\s;]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a row: where (column or constant), the value, and what is wrong."""

    where: str
    value: str
    text: str

    def __str__(self) -> str:
        return f"{self.where} = {self.value[:80]!r}: {self.text}"


@dataclass
class NewModel:
    """A model the file names that the catalog does not have yet."""

    name: str
    category: Category
    model: EquipmentModel | None = None


@dataclass
class RowValues:
    """A row read into ledger values."""

    number: int
    external_id: str
    conflict: Conflict
    side: Side
    model: EquipmentModel | NewModel
    fates: list[dict[str, Any]]
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    is_sample: bool = False

    def plain(self) -> dict[str, Any]:
        """Return the values as JSON, to keep on the source record and to compare re-imports."""
        values = {k: _plain(v) for k, v in self.fields.items()}
        model = self.model
        return {
            **values,
            "conflict": self.conflict.slug,
            "side": self.side.slug,
            "model": model.name,
            "fates": self.fates,
            "tags": sorted(self.tags),
            "evidence_urls": list(self.urls),
            "is_sample": self.is_sample,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Side):
        return value.slug
    if isinstance(value, AdminUnit):
        return value.code
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_hash(cells: dict[str, str]) -> str:
    """Return the SHA-256 of a row's cells, as the identity and change mark of the row."""
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


class RowReader:
    """Reads rows through one mapping, with the look-ups of the whole file cached."""

    def __init__(self, *, spec: MappingSpec, options: ImportOptions) -> None:
        self.spec = spec
        self.namespace = spec.source or "csv"
        self.conflicts: dict[str, Conflict | None] = {}
        self.sides: dict[int, list[Side]] = {}
        self.models: dict[str, EquipmentModel | None] = {}
        self.categories: dict[str, Category | None] = {}
        self.units: dict[int, dict[str, list[AdminUnit]]] = {}
        self.new_models: dict[str, NewModel] = {}
        self.default_conflict = self._conflict_option(options.conflict)
        self.default_side = options.side

    def _conflict_option(self, slug: str | None) -> Conflict | None:
        if not slug:
            if "conflict" not in self.spec.fields:
                raise ImportRefused("the mapping names no conflict column: give --conflict SLUG")
            return None
        conflict = self._conflict(slug)
        if conflict is None:
            known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
            raise ImportRefused(f"no conflict {slug!r}; known: {known}")
        return conflict

    def _conflict(self, value: str) -> Conflict | None:
        key = value.casefold()
        if key not in self.conflicts:
            self.conflicts[key] = Conflict.objects.filter(
                Q(slug__iexact=value) | Q(name__iexact=value)
            ).first()
        return self.conflicts[key]

    def _side(self, conflict: Conflict, value: str) -> Side | None:
        if conflict.pk not in self.sides:
            self.sides[conflict.pk] = list(conflict.sides.all())
        wanted = value.casefold()
        for side in self.sides[conflict.pk]:
            if wanted in {side.slug.casefold(), side.name.casefold(), side.short_name.casefold()}:
                return side
        return None

    def _cell(self, name: str, cells: dict[str, str]) -> tuple[str, str, FieldSpec] | None:
        spec = self.spec.fields.get(name)
        if spec is None:
            return None
        if spec.constant is not None:
            return f"constant of {name}", spec.constant.strip(), spec
        assert spec.column is not None
        # A text our exports (or a spreadsheet) wrote as text, not a formula, loses its apostrophe.
        return f"column {spec.column!r}", cell_text(cells.get(spec.column, "").strip()), spec

    def read(self, number: int, cells: dict[str, str]) -> RowValues | list[Problem]:
        """Return the row's values, or every problem found in it."""
        problems: list[Problem] = []
        conflict = self._read_conflict(cells, problems)
        side = self._read_side(conflict, "side", cells, problems, self.default_side)
        model = self._read_model(cells, problems)
        fates = self._read_fates(cells, problems)
        ext_id = self._read_id(cells, problems)
        values = {}
        if conflict is not None:
            values = self._read_fields(conflict, side, cells, problems)
        if problems:
            return problems
        assert conflict is not None, "a row without a conflict has a problem"
        assert side is not None, "a row without a side has a problem"
        assert model is not None, "a row without a model has a problem"
        row = RowValues(
            number=number,
            external_id=ext_id,
            conflict=conflict,
            side=side,
            model=model,
            fates=fates,
        )
        row.tags = values.pop("tags", [])
        row.urls = values.pop("evidence_urls", {})
        row.is_sample = values.pop("is_sample", False)
        row.fields = values
        return row

    def _read_conflict(self, cells: dict[str, str], problems: list[Problem]) -> Conflict | None:
        got = self._cell("conflict", cells)
        if got is None or not got[1]:
            if self.default_conflict is None:
                where = got[0] if got else "conflict"
                problems.append(Problem(where, "", "empty, and no --conflict was given"))
            return self.default_conflict
        where, value, spec = got
        conflict = self._conflict(spec.synonym(value))
        if conflict is None:
            problems.append(Problem(where, value, "no such conflict (slug or name)"))
        return conflict

    def _read_side(
        self,
        conflict: Conflict | None,
        name: str,
        cells: dict[str, str],
        problems: list[Problem],
        default: str | None = None,
    ) -> Side | None:
        got = self._cell(name, cells)
        where, value = (got[0], got[2].synonym(got[1])) if got and got[1] else (name, "")
        if not value:
            value = default or ""
            if not value:
                if name == "side":
                    problems.append(Problem(where, "", "empty: the side that lost it is required"))
                return None
        if conflict is None:
            return None
        side = self._side(conflict, value)
        if side is None:
            known = ", ".join(s.slug for s in self.sides.get(conflict.pk, []))
            problems.append(Problem(where, value, f"not a side of {conflict.slug} ({known})"))
        return side

    def _read_model(
        self, cells: dict[str, str], problems: list[Problem]
    ) -> EquipmentModel | NewModel | None:
        got = self._cell("model", cells)
        name = got[2].synonym(got[1]) if got and got[1] else ""
        if name:
            key = alias_normalize(name)
            if not key:
                problems.append(Problem(got[0] if got else "model", name, "no letters or digits"))
                return None
            if key in self.new_models:
                return self.new_models[key]
            if key not in self.models:
                self.models[key] = model_lookup(name=name)
            found = self.models[key]
            if found is not None:
                return found
        before = len(problems)
        needed = (
            Problem(got[0], name, "not in the catalog, and no category is given")
            if got and name
            else None
        )
        category = self._read_category(cells, problems, needed=needed)
        if category is None:
            if not name and len(problems) == before:
                problems.append(Problem("model", "", "empty, and no category is given"))
            return None
        if not name:
            name = f"Unidentified {category.name.lower()}"
            key = alias_normalize(name)
            if key not in self.models:
                self.models[key] = model_lookup(name=name)
            found = self.models[key]
            if found is not None:
                return found
        new = self.new_models.setdefault(key, NewModel(name=name[:200], category=category))
        return new

    def _read_category(
        self, cells: dict[str, str], problems: list[Problem], *, needed: Problem | None
    ) -> Category | None:
        got = self._cell("category", cells)
        if got is None or not got[1]:
            if needed is not None:
                problems.append(needed)
            return None
        where, value, spec = got
        value = spec.synonym(value)
        if value.casefold() not in self.categories:
            self.categories[value.casefold()] = _category(value)
        category = self.categories[value.casefold()]
        if category is None:
            problems.append(
                Problem(where, value, "no such category (slug, name or a CSV category mapping)")
            )
        return category

    def _read_fates(self, cells: dict[str, str], problems: list[Problem]) -> list[dict[str, Any]]:
        got = self._cell("fate", cells)
        assert got is not None, "fate is a required field"
        where, value, spec = got
        if not value:
            problems.append(Problem(where, "", "empty: the fate is required"))
            return []
        fates = []
        for part in _fate_parts(spec.synonym(value)):
            match = FATE_PART.match(part)
            word = spec.synonym(match["word"]).strip().lower() if match else ""
            detail = (match["detail"] or "").strip() if match else ""
            if word not in Fate.values or len(detail) > 200:
                allowed = ", ".join(Fate.values)
                problems.append(
                    Problem(where, value, f"{part!r} is not a fate ({allowed}, or a synonym)")
                )
                return []
            fates.append({"fate": word, "detail": detail, "date": None})
        return fates

    def _read_id(self, cells: dict[str, str], problems: list[Problem]) -> str:
        got = self._cell("external_id", cells)
        if got is None:
            return f"{self.namespace}:sha256:{row_hash(cells)[:40]}"
        where, value, _ = got
        if not value or len(value) > MAX_ID:
            problems.append(Problem(where, value, f"an id is 1 to {MAX_ID} characters"))
            return ""
        return f"{self.namespace}:{value}"

    def _read_fields(
        self, conflict: Conflict, side: Side | None, cells: dict[str, str], problems: list[Problem]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in ("place", "unit", "markings", "notes"):
            got = self._cell(name, cells)
            if got is None:
                continue
            limit = MAX_NOTES if name == "notes" else MAX_TEXT
            if len(got[1]) > limit:
                problems.append(Problem(got[0], got[1], f"longer than {limit} characters"))
            key = {"place": "place_text", "notes": "description"}.get(name, name)
            values[key] = got[2].synonym(got[1])
        captor = self._read_side(conflict, "captured_by", cells, problems)
        if "captured_by" in self.spec.fields:
            if captor is not None and side is not None and captor.pk == side.pk:
                where = self._cell("captured_by", cells)
                problems.append(
                    Problem(where[0] if where else "", captor.slug, "the captor is the loser")
                )
            values["captured_by"] = captor
        self._read_date(cells, problems, values)
        self._read_place(conflict, cells, problems, values)
        for name, reader in (("tags", _tags), ("evidence_urls", _urls), ("is_sample", _bool)):
            got = self._cell(name, cells)
            if got is None:
                continue
            try:
                values[name] = reader(got[2].synonym(got[1]), got[2])
            except InvalidInput as exc:
                problems.append(Problem(got[0], got[1], exc.message))
        return values

    def _read_date(
        self, cells: dict[str, str], problems: list[Problem], values: dict[str, Any]
    ) -> None:
        got = self._cell("first_seen", cells)
        if got is not None:
            where, value, spec = got
            formats = spec.formats or ["%Y-%m-%d"]
            values["first_seen"] = None
            if value:
                parsed = _date(value, formats)
                if parsed is None:
                    problems.append(
                        Problem(where, value, f"not a date in the format(s) {', '.join(formats)}")
                    )
                else:
                    values["first_seen"], values["first_seen_precision"] = parsed
        got = self._cell("first_seen_precision", cells)
        if got is not None and got[1]:
            value = got[2].synonym(got[1]).lower()
            if value not in DatePrecision.values:
                problems.append(Problem(got[0], got[1], "not day, month or year"))
            values["first_seen_precision"] = value

    def _read_place(
        self,
        conflict: Conflict,
        cells: dict[str, str],
        problems: list[Problem],
        values: dict[str, Any],
    ) -> None:
        point = {}
        for name, limit in (("lat", 90.0), ("lon", 180.0)):
            got = self._cell(name, cells)
            if got is None or not got[1]:
                continue
            number = _float(got[1])
            if number is None or abs(number) > limit:
                problems.append(Problem(got[0], got[1], f"not a number from -{limit} to {limit}"))
            point[name] = number
        if len(point) == 1:
            missing = "lon" if "lat" in point else "lat"
            problems.append(Problem(missing, "", "a point needs both latitude and longitude"))
        if "lat" in self.spec.fields or "lon" in self.spec.fields:
            values["lat"], values["lon"] = point.get("lat"), point.get("lon")
        got = self._cell("place_precision", cells)
        if got is not None and got[1]:
            value = got[2].synonym(got[1]).lower()
            if value not in PlacePrecision.values:
                problems.append(Problem(got[0], got[1], "not a place precision"))
            values["place_precision"] = value
        got = self._cell("admin_unit", cells)
        if got is not None:
            values["admin_unit"] = None
            if got[1]:
                unit, why = self._unit(conflict, got[2].synonym(got[1]))
                if unit is None:
                    problems.append(Problem(got[0], got[1], why))
                values["admin_unit"] = unit

    def _unit(self, conflict: Conflict, value: str) -> tuple[AdminUnit | None, str]:
        if conflict.boundary_set_id is None:
            return None, f"{conflict.slug} has no map of admin units"
        units = self.units.get(conflict.boundary_set_id)
        if units is None:
            units = {}
            for unit in AdminUnit.objects.filter(boundary_set_id=conflict.boundary_set_id):
                units.setdefault(unit.code, []).append(unit)
                units.setdefault(unit.name.casefold(), []).append(unit)
            self.units[conflict.boundary_set_id] = units
        found = units.get(value) or units.get(value.casefold()) or []
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, f"{len(found)} admin units have this name: give the code"
        return None, f"no admin unit with this code or name in the map of {conflict.slug}"


def _fate_parts(text: str) -> list[str]:
    """Return the states of a fate history, split on "and (later)" outside parentheses."""
    parts, start = [], 0
    for match in FATE_JOIN.finditer(text):
        before = text[: match.start()]
        if before.count("(") == before.count(")"):
            parts.append(text[start : match.start()].strip())
            start = match.end()
    parts.append(text[start:].strip())
    return parts


def _category(value: str) -> Category | None:
    found = Category.objects.filter(Q(slug__iexact=value) | Q(name__iexact=value)).first()
    if found is not None:
        return found
    today = timezone.now().date()
    mapping = (
        CategoryMapping.objects.select_related("category")
        .filter(source=CategoryMapping.Source.CSV, source_category__iexact=value)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .order_by("-valid_from")
        .first()
    )
    return mapping.category if mapping is not None else None


def _date(value: str, formats: list[str]) -> tuple[dt.date, str] | None:
    for fmt in formats:
        try:
            day = dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if "%d" in fmt or "%j" in fmt:
            return day, DatePrecision.DAY
        if any(code in fmt for code in ("%m", "%b", "%B")):
            return day, DatePrecision.MONTH
        return day, DatePrecision.YEAR
    return None


def _float(value: str) -> float | None:
    text = value.replace(",", ".") if "." not in value and value.count(",") == 1 else value
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _tags(value: str, spec: FieldSpec) -> list[str]:
    tags = [t.strip() for t in value.split(spec.separator or ";") if t.strip()]
    for tag in tags:
        if not slugify(tag) or len(tag) > 64:
            raise InvalidInput(f"tag {tag[:80]!r} is empty of letters or longer than 64")
    return tags


def _urls(value: str, spec: FieldSpec) -> dict[str, str]:
    urls: dict[str, str] = {}
    for text in URL_SPLIT.split(value):
        if not text:
            continue
        try:
            urls.setdefault(url_canonical(text), text)
        except InvalidInput as exc:
            raise InvalidInput(f"{text[:100]!r} is not a usable URL: {exc.message}") from None
    return urls


def _bool(value: str, spec: FieldSpec) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise InvalidInput("not true or false")
