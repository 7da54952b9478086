"""Column mappings of the CSV importer: which column (or constant) fills which ledger field.

A mapping is JSON, e.g.::

    {"source": "lostarmour", "fields": {
        "side": {"column": "Lost by", "values": {"Afghan army": "andsf"}},
        "model": "Model", "fate": {"column": "Status", "values": {"уничтожен": "destroyed"}},
        "first_seen": {"column": "Date", "formats": ["%d.%m.%Y"]}}}

Mappings are saved by name (ColumnMapping) and reused; `attrition` is built in and reads this
instance's own CSV export.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.text import slugify
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attrition.errors import InvalidInput, NotFound
from attrition.importers.models import ColumnMapping

# The ledger fields a mapping may fill, and what each holds.
FIELDS: dict[str, str] = {
    "conflict": "conflict slug or name (else --conflict)",
    "side": "side that lost the item: slug, name or short name (else --side)",
    "model": "equipment model: name, slug or alias",
    "category": "category: slug, name or a CSV category mapping (creates unknown models)",
    "fate": 'fate or fate history, e.g. "captured and later destroyed (sunk)"',
    "captured_by": "side that captured it",
    "first_seen": "date first seen (formats: option `formats`, default %Y-%m-%d)",
    "first_seen_precision": "day, month or year (else from the date format)",
    "admin_unit": "admin unit code or name in the conflict's map",
    "place": "place in words",
    "lat": "latitude in degrees",
    "lon": "longitude in degrees",
    "place_precision": "exact, approximate, settlement, district, province or unknown",
    "unit": "military unit",
    "markings": "hull, tail or registration numbers",
    "tags": "tags, separated by `separator` (default ;)",
    "notes": "free text, kept as the loss's description",
    "evidence_urls": "one or more URLs, separated by spaces or ;",
    "external_id": "the source's own id of the row (else a hash of the row)",
    "is_sample": "true for demo records",
}
REQUIRED = ("fate",)
BUILTIN = "attrition"
MAX_MAPPING_BYTES = 256 * 1024


class FieldSpec(BaseModel):
    """Where one ledger field comes from: a column or a constant, and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = Field(default=None, min_length=1, max_length=300)
    constant: str | None = Field(default=None, max_length=1000)
    values: dict[str, str] = Field(default_factory=dict, description="synonyms: cell -> value")
    formats: list[str] = Field(default_factory=list, max_length=20)
    separator: str | None = Field(default=None, min_length=1, max_length=5)

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.column is None) == (self.constant is None):
            raise ValueError("give exactly one of `column` and `constant`")
        return self

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        for fmt in formats:
            if "%" not in fmt:
                raise ValueError(f"date format {fmt!r} has no % code (e.g. %d.%m.%Y)")
            try:
                dt.date(2021, 8, 15).strftime(fmt)
            except ValueError:
                raise ValueError(f"date format {fmt!r} is not valid") from None
        return formats

    def synonym(self, value: str) -> str:
        """Return what the mapping says `value` means (matched without case), or `value`."""
        if not self.values:
            return value
        folded = {" ".join(k.split()).casefold(): v for k, v in self.values.items()}
        return folded.get(" ".join(value.split()).casefold(), value)


class MappingSpec(BaseModel):
    """A whole mapping: ledger field -> FieldSpec, and how to read the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(
        default="", max_length=40, description="namespace of the rows' ids (default: the name)"
    )
    description: str = Field(default="", max_length=2000)
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    fields: dict[str, FieldSpec]

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, fields: Any) -> Any:
        if isinstance(fields, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in fields.items()}
        return fields

    @field_validator("fields")
    @classmethod
    def _known(cls, fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"unknown ledger field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
            )
        missing = [f for f in REQUIRED if f not in fields]
        if missing:
            raise ValueError(f"the required field(s) {', '.join(missing)} are not mapped")
        if "model" not in fields and "category" not in fields:
            raise ValueError("map `model` or `category` (or both)")
        return fields

    def columns(self) -> dict[str, str]:
        """Return ledger field -> column name, for the fields read from a column."""
        return {k: s.column for k, s in self.fields.items() if s.column is not None}


# Our own CSV export (losses.exports.CSV_COLUMNS), read back exactly.
ATTRITION_MAPPING: dict[str, Any] = {
    "source": "attrition",
    "description": "This instance's own CSV export (attrition export, /losses.csv).",
    "encoding": "utf-8",
    "delimiter": ",",
    "fields": {
        "external_id": "id",
        "conflict": "conflict",
        "side": "side",
        "category": "category",
        "model": "model",
        "fate": "fate_history",
        "captured_by": "captured_by",
        "first_seen": {"column": "first_seen", "formats": ["%Y-%m-%d"]},
        "first_seen_precision": "first_seen_precision",
        "admin_unit": "admin_unit_code",
        "lon": "lon",
        "lat": "lat",
        "place_precision": "place_precision",
        "unit": "unit",
        "markings": "markings",
        "tags": {"column": "tags", "separator": ";"},
        "is_sample": "is_sample",
        "evidence_urls": "evidence_urls",
    },
}
# Export columns the built-in mapping does not read, and why.
ATTRITION_UNREAD = {
    "fate": "the headline fate is the last entry of fate_history",
    "admin_unit": "the unit's name; admin_unit_code is read",
    "status": "imported records get the status the import is run with (--status)",
}


def mapping_parse(raw: Any, *, name: str = "") -> MappingSpec:
    """Return a validated mapping, or raise InvalidInput naming each problem."""
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'mapping'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidInput(
            f"the column mapping{f' {name!r}' if name else ''} is not valid: {problems}",
            details={"errors": json.loads(exc.json())},
        ) from None
    if not spec.source and name:
        spec = spec.model_copy(update={"source": slugify(name)[:40]})
    return spec


def mapping_json_parse(text: str | bytes, *, name: str = "") -> MappingSpec:
    """Return the mapping in a JSON document, or raise InvalidInput saying what is wrong."""
    if len(text) > MAX_MAPPING_BYTES:
        raise InvalidInput(f"the mapping file is larger than {MAX_MAPPING_BYTES // 1024} kB")
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the mapping file is not JSON: {exc}") from None
    return mapping_parse(raw, name=name)


def mapping_names() -> list[str]:
    """Return the names of the built-in and the saved mappings."""
    return [BUILTIN, *ColumnMapping.objects.exclude(name=BUILTIN).values_list("name", flat=True)]


def mapping_get(*, name: str) -> MappingSpec:
    """Return the mapping saved (or built in) under `name`, or raise NotFound naming the known."""
    if name == BUILTIN:
        return mapping_parse(ATTRITION_MAPPING, name=BUILTIN)
    saved = ColumnMapping.objects.filter(name=name).first()
    if saved is None:
        raise NotFound(f"no column mapping {name!r} (known: {', '.join(mapping_names())})")
    return mapping_parse(saved.mapping, name=name)


def mapping_save(*, name: str, spec: MappingSpec, by: Any = None) -> tuple[ColumnMapping, bool]:
    """Save `spec` under `name` (replacing a saved one); return it and whether it was new."""
    if name == BUILTIN:
        raise InvalidInput(f"{BUILTIN!r} is the built-in mapping of our own export: pick a name")
    if slugify(name) != name or len(name) > 100:
        raise InvalidInput(
            f"a mapping name is a slug (lower-case letters, digits, - and _): {name!r} is not"
        )
    user = by if getattr(by, "is_authenticated", False) else None
    data = spec.model_dump(exclude_defaults=True)
    mapping, created = ColumnMapping.objects.update_or_create(
        name=name,
        defaults={"mapping": data, "description": spec.description},
        create_defaults={
            "mapping": data,
            "description": spec.description,
            "created_by": user,
        },
    )
    return mapping, created
