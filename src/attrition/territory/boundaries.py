"""Import another boundary set from GeoJSON: a country, its provinces and their districts.

Two FeatureCollections (provinces, districts) become admin units nested under one country unit.
Every feature is checked before anything is written (a code, a name, a polygonal geometry, a
district's province present); one bad feature refuses the whole import and names it, so a
boundary set is never half loaded. Importing the same files again creates nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import shapely
from django.db import transaction
from pydantic import ValidationError
from shapely.geometry import shape

from attrition.errors import InvalidInput
from attrition.reference.files import UnitIn
from attrition.territory.models import AdminUnit, BoundarySet

PROVINCE: Literal[1] = 1
DISTRICT: Literal[2] = 2


@dataclass(frozen=True)
class Properties:
    """Which feature properties hold a unit's code, name, local name and (districts) province."""

    code: str
    name: str
    local_name: str = ""
    parent: str = ""


@dataclass
class BoundaryReport:
    """What a boundary import did, or would do on a dry run."""

    slug: str
    dry_run: bool
    created: dict[str, int] = field(default_factory=lambda: {"provinces": 0, "districts": 0})
    existing: int = 0

    def text(self) -> str:
        """Return the report as lines for a terminal."""
        verb = "would create" if self.dry_run else "created"
        return (
            f"boundary set {self.slug}: {verb} {self.created['provinces']} provinces and "
            f"{self.created['districts']} districts; {self.existing} units already there\n"
        )


def _features(data: bytes, what: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the {what} file is not JSON: {exc}") from None
    if not isinstance(parsed, dict) or parsed.get("type") != "FeatureCollection":
        raise InvalidInput(f"the {what} file is not a GeoJSON FeatureCollection")
    features = parsed.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput(f"the {what} file has no features")
    return [f for f in features if isinstance(f, dict)]


def _unit(
    feature: dict[str, Any],
    n: int,
    *,
    what: str,
    level: Literal[1, 2],
    props: Properties,
    prefix: str,
) -> UnitIn:
    """Return one feature as a validated unit, or raise InvalidInput naming the feature."""
    values = feature.get("properties") or {}
    code = str(values.get(props.code) or "").strip()
    where = f"{what} feature {n}" + (f" ({code})" if code else "")
    if not code:
        raise InvalidInput(f"{where} has no {props.code!r} property to use as its code")
    geometry = feature.get("geometry")
    try:
        polygon = shape(geometry) if isinstance(geometry, dict) else None
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        polygon = None
    if polygon is None or polygon.is_empty or polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"{where}: the geometry is not a valid Polygon or MultiPolygon")
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    point = polygon.representative_point()
    parent = str(values.get(props.parent) or "").strip() if level == DISTRICT else prefix
    try:
        return UnitIn(
            code=code,
            level=level,
            parent=parent or None,
            name=str(values.get(props.name) or "").strip(),
            name_local=str(values.get(props.local_name) or "").strip()[:200]
            if props.local_name
            else "",
            label_lon=round(point.x, 6),
            label_lat=round(point.y, 6),
            geometry=geometry,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"{where} is not valid: {problems}") from None


def boundary_set_import(
    *,
    slug: str,
    name: str,
    source: str,
    licence: str,
    attribution: str,
    country_code: str,
    country_name: str,
    provinces: bytes,
    districts: bytes,
    province_props: Properties,
    district_props: Properties,
    dry_run: bool = False,
) -> BoundaryReport:
    """Import a boundary set from province and district GeoJSON; all or nothing."""
    country = country_code.strip().upper()
    if not country:
        raise InvalidInput("give the country's code (e.g. its ISO 3166 alpha-2 code, AF)")
    province_units = [
        _unit(f, n, what="province", level=PROVINCE, props=province_props, prefix=country)
        for n, f in enumerate(_features(provinces, "province"), start=1)
    ]
    district_units = [
        _unit(f, n, what="district", level=DISTRICT, props=district_props, prefix=country)
        for n, f in enumerate(_features(districts, "district"), start=1)
    ]
    codes = [u.code for u in [*province_units, *district_units]]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated or country in codes:
        raise InvalidInput(f"codes used twice: {', '.join(repeated or [country])}")
    known = {u.code for u in province_units}
    orphans = [f"{u.code} (province {u.parent!r})" for u in district_units if u.parent not in known]
    if orphans:
        raise InvalidInput(
            f"{len(orphans)} districts name no province of the province file: "
            + ", ".join(orphans[:10])
        )
    report = BoundaryReport(slug=slug, dry_run=dry_run)
    existing = BoundarySet.objects.filter(slug=slug).first()
    have: dict[str, int] = {}
    if existing is not None:
        have = dict(existing.units.values_list("code", "id"))
    report.existing = sum(1 for c in [country, *codes] if c in have)
    report.created["provinces"] = sum(1 for u in province_units if u.code not in have)
    report.created["districts"] = sum(1 for u in district_units if u.code not in have)
    if dry_run:
        return report
    with transaction.atomic():
        boundary_set = existing or BoundarySet.objects.create(
            slug=slug, name=name, source=source, licence=licence, attribution=attribution
        )
        if country not in have:
            root = AdminUnit.objects.create(
                boundary_set=boundary_set, level=AdminUnit.Level.COUNTRY, code=country,
                name=country_name or country,
            )  # fmt: skip
            have[country] = root.pk
        for units in (province_units, district_units):
            fresh = [u for u in units if u.code not in have]
            created = AdminUnit.objects.bulk_create(
                [
                    AdminUnit(
                        boundary_set=boundary_set,
                        level=u.level,
                        code=u.code,
                        name=u.name,
                        name_local=u.name_local,
                        parent_id=have[u.parent or country],
                        label_lon=u.label_lon,
                        label_lat=u.label_lat,
                        geometry=u.geometry,
                    )
                    for u in fresh
                ],
                batch_size=200,
            )
            have.update(
                dict(
                    AdminUnit.objects.filter(
                        boundary_set=boundary_set, code__in=[u.code for u in created]
                    ).values_list("code", "id")
                )
            )
    return report
