"""A tiny map for territory tests: one country, two provinces, four square districts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from attrition.accounts.models import User
from attrition.catalog.models import Conflict, Side
from attrition.evidence.models import Evidence
from attrition.losses.choices import ReviewStatus
from attrition.review.workflow import Action, review_transition
from attrition.territory.models import (
    AdminUnit,
    AdminUnitAlias,
    BorderSegment,
    BoundarySet,
    ControlRecord,
)
from attrition.territory.services import control_record_create
from tests.ledger import Ledger


def square(x: float, y: float, size: float = 1.0) -> dict[str, Any]:
    """Return a GeoJSON square with its south-west corner at (x, y)."""
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Map:
    """The tiny map, its conflict and sides, and who writes and reviews its records."""

    conflict: Conflict
    government: Side
    taliban: Side
    country: AdminUnit
    north: AdminUnit  # province: districts alpha, bravo
    south: AdminUnit  # province: districts charlie, delta
    alpha: AdminUnit
    bravo: AdminUnit
    charlie: AdminUnit
    delta: AdminUnit
    author: User
    reviewer: User
    records: list[ControlRecord] = field(default_factory=list)

    def record(
        self,
        unit: AdminUnit,
        status: str,
        since: dt.date,
        *,
        verified: bool = True,
        last_confirmed: dt.date | None = None,
        evidence: list[Evidence] | None = None,
        side: Side | None = None,
    ) -> ControlRecord:
        """Create a control record by the author and, unless told otherwise, verify it."""
        record = control_record_create(
            conflict=self.conflict,
            unit=unit,
            status=status,
            since=since,
            last_confirmed=last_confirmed,
            controlling_side=side,
            evidence=evidence or [],
            review_status=ReviewStatus.SUBMITTED,
            by=self.author,
        )
        if verified:
            review_transition(record=record, action=Action.VERIFY, by=self.reviewer)
            record.refresh_from_db()
        self.records.append(record)
        return record


def tiny_map_make(ledger: Ledger, contributor: User, reviewer: User) -> Map:
    """Return the tiny map on the ledger's conflict; charlie writes records, bob verifies them."""
    boundary_set = BoundarySet.objects.create(
        slug="tiny", name="Tiny map", source="tests", attribution="tests", licence="CC0"
    )
    ledger.conflict.boundary_set = boundary_set
    ledger.conflict.save()

    def unit(code: str, level: int, name: str, parent: AdminUnit | None, **kw: Any) -> AdminUnit:
        return AdminUnit.objects.create(
            boundary_set=boundary_set, level=level, code=code, name=name, parent=parent, **kw
        )

    country = unit("T", 0, "Tinyland", None, geometry=square(0, 0, 2))
    north = unit("T01", 1, "North", country, geometry=square(0, 1, 2))
    south = unit("T02", 1, "South", country, geometry=square(0, 0, 2))
    alpha = unit("T01-alpha", 2, "Alpha", north, geometry=square(0, 1), border_countries=["TJK"])
    bravo = unit("T01-bravo", 2, "Bravo", north, geometry=square(1, 1), border_countries=["TJK"])
    charlie = unit("T02-charlie", 2, "Charlie", south, geometry=square(0, 0))
    delta = unit("T02-delta", 2, "Delta", south, geometry=square(1, 0), border_countries=["PAK"])
    BorderSegment.objects.bulk_create(
        [
            BorderSegment(unit=alpha, country="TJK", length_km=100.1),
            BorderSegment(unit=bravo, country="TJK", length_km=50.2),
            BorderSegment(unit=delta, country="PAK", length_km=30.3),
        ]
    )
    AdminUnitAlias.objects.create(unit=bravo, alias="Brawo", normalized="brawo")
    AdminUnitAlias.objects.create(unit=south, alias="Sud", normalized="sud")
    return Map(
        conflict=ledger.conflict,
        government=ledger.afghan,
        taliban=ledger.taliban,
        country=country,
        north=north,
        south=south,
        alpha=alpha,
        bravo=bravo,
        charlie=charlie,
        delta=delta,
        author=contributor,
        reviewer=reviewer,
    )
