"""Geometry reads: simplified outlines for maps, and the losses that lie inside a unit."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
import shapely
from django.db.models import Max, Q, QuerySet
from shapely.geometry import mapping, shape

from attrition.catalog.models import Conflict
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.territory.models import AdminUnit
from attrition.territory.selectors import (
    DISTRICT,
    STATUS_LABELS,
    UnitStatus,
    status_on,
)

# Tolerance of the map outlines, in degrees (~1 km): plenty for a country-wide choropleth, and it
# keeps a 398-district map under 100 kB gzipped. Coordinates keep 3 decimals (~100 m).
MAP_TOLERANCE = 0.01
MAP_DECIMALS = 3

_cache: dict[tuple[int, int, int, int], list[dict[str, Any]]] = {}
_lock = threading.Lock()


def _round(geometry: Any) -> Any:
    return shapely.transform(geometry, lambda xy: np.round(xy, MAP_DECIMALS))


def map_features(boundary_set_id: int, *, level: int = DISTRICT) -> list[dict[str, Any]]:
    """Return the units of a level as GeoJSON features with simplified outlines (cached)."""
    units = AdminUnit.objects.filter(boundary_set_id=boundary_set_id, level=level)
    # The outlines change only when an admin edits a unit or adds one: its count and largest id.
    stats = units.aggregate(n=Max("pk"))
    key = (boundary_set_id, level, units.count(), stats["n"] or 0)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = list(
        units.filter(geometry__isnull=False)
        .select_related("parent")
        .only("pk", "code", "name", "geometry", "parent__name")
        .order_by("pk")
    )
    geometries = [shape(u.geometry) for u in rows]
    # Simplified together, neighbours keep their shared edges: no slivers or gaps between them.
    simplified = shapely.coverage_simplify(geometries, MAP_TOLERANCE)
    features = []
    for unit, geometry in zip(rows, simplified, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": unit.pk,
                "properties": {
                    "id": unit.pk,
                    "code": unit.code,
                    "name": unit.name,
                    "province": unit.parent.name if unit.parent else "",
                },
                "geometry": mapping(_round(geometry)),
            }
        )
    with _lock:
        _cache.clear()  # one boundary set per instance in practice: keep only the latest
        _cache[key] = features
    return features


def status_properties(status: UnitStatus) -> dict[str, Any]:
    """Return the properties a map feature carries about a unit's status on a date."""
    return {
        "status": status.status,
        "status_label": STATUS_LABELS[status.status],
        "since": status.since.isoformat() if status.since else None,
        "confirmed": status.confirmed.isoformat() if status.confirmed else None,
        "age_days": status.age_days,
        "stale": status.stale,
        "assessed": status.assessed,
        "side": status.side_id,
        "record": status.record_id,
    }


def control_geojson(conflict: Conflict, on: dt.date) -> dict[str, Any]:
    """Return a FeatureCollection of the conflict's districts with their status on a date."""
    statuses = status_on(conflict, on)
    features = []
    for feature in map_features(conflict.boundary_set_id or 0):
        status = statuses.get(feature["id"], UnitStatus(unit_id=feature["id"]))
        features.append(
            {**feature, "properties": {**feature["properties"], **status_properties(status)}}
        )
    return {"type": "FeatureCollection", "date": on.isoformat(), "features": features}


def _descendants(unit: AdminUnit) -> list[int]:
    if unit.level == AdminUnit.Level.COUNTRY:
        units = AdminUnit.objects.filter(boundary_set_id=unit.boundary_set_id)
        return list(units.values_list("pk", flat=True))
    ids = [unit.pk]
    if unit.level == AdminUnit.Level.PROVINCE:
        ids += list(AdminUnit.objects.filter(parent=unit).values_list("pk", flat=True))
    return ids


def losses_in_unit(unit: AdminUnit, *, losses: QuerySet[Loss] | None = None) -> QuerySet[Loss]:
    """Return the losses placed in a unit (or one inside it), or whose point lies in its outline.

    `losses` narrows the search (default: verified, not deleted).
    """
    base = (
        Loss.objects.filter(status=ReviewStatus.VERIFIED, deleted_at__isnull=True)
        if losses is None
        else losses
    )
    ids: set[int] = set(
        base.filter(admin_unit_id__in=_descendants(unit)).values_list("pk", flat=True)
    )
    geometry = AdminUnit.objects.filter(pk=unit.pk).values_list("geometry", flat=True).first()
    if geometry:
        outline = shape(geometry)
        west, south, east, north = outline.bounds
        candidates = list(
            base.filter(
                Q(lon__gte=west) & Q(lon__lte=east) & Q(lat__gte=south) & Q(lat__lte=north)
            ).values_list("pk", "lon", "lat")
        )
        if candidates:
            shapely.prepare(outline)
            xs = np.array([c[1] for c in candidates], dtype=float)
            ys = np.array([c[2] for c in candidates], dtype=float)
            inside = shapely.contains_xy(outline, xs, ys)
            ids.update(c[0] for c, hit in zip(candidates, inside, strict=True) if hit)
    return base.filter(pk__in=ids)
