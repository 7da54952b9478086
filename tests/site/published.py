"""A published ledger for the publish tests: places, tags, a video, dates, and hidden records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from attrition.evidence.models import Capture, CustodyRecord
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.territory.models import AdminUnit, BoundarySet
from tests.ledger import Ledger

DAY = dt.date(2021, 8, 1)


@dataclass
class Published:
    ledger: Ledger
    kunduz: AdminUnit  # a province
    imam_sahib: AdminUnit  # a district of Kunduz
    herat: AdminUnit  # another province
    public: list[Loss]
    hidden: list[Loss]


def video_evidence(ledger: Ledger, n: int) -> object:
    """Return evidence with an archived video capture."""
    evidence = ledger.evidence(n)
    capture = Capture.objects.create(
        sha256=f"{n:064x}",
        kind=Capture.Kind.VIDEO,
        storage_key=f"c/{n}",
        mime="video/mp4",
        size_bytes=1000,
        duration_s=3.0,
    )
    CustodyRecord.objects.create(
        evidence=evidence,
        capture=capture,
        method=CustodyRecord.Method.UPLOAD,
        collected_at=timezone.now(),
    )
    return evidence


def published(ledger: Ledger) -> Published:
    """Make six public losses and three that no reader may see."""
    boundaries = BoundarySet.objects.create(
        slug="test-b", name="Test boundaries", source="tests", attribution="Test", licence="CC0"
    )
    ledger.conflict.boundary_set = boundaries
    ledger.conflict.save()
    country = AdminUnit.objects.create(boundary_set=boundaries, level=0, code="AF", name="Af")
    kunduz = AdminUnit.objects.create(
        boundary_set=boundaries, level=1, code="AF17", name="Kunduz", parent=country
    )
    imam_sahib = AdminUnit.objects.create(
        boundary_set=boundaries, level=2, code="AF1705", name="Imam Sahib", parent=kunduz
    )
    herat = AdminUnit.objects.create(
        boundary_set=boundaries, level=1, code="AF32", name="Herat", parent=country
    )
    video = video_evidence(ledger, 100)
    public = [
        ledger.loss(
            first_seen=DAY,
            admin_unit=imam_sahib,
            lat=37.1,
            lon=68.9,
            markings="211",
            evidence=[video],
            tags=["convoy"],
        ),
        ledger.loss(
            model=ledger.t55,
            fates=["captured"],
            first_seen=DAY + dt.timedelta(days=2),
            admin_unit=kunduz,
            evidence=[ledger.evidence(1)],
        ),
        ledger.loss(
            model=ledger.ranger,
            fates=["captured"],
            side=ledger.taliban,
            first_seen=DAY + dt.timedelta(days=9),
            admin_unit=herat,
        ),
        ledger.loss(
            model=ledger.ranger, fates=["abandoned"], first_seen=DAY + dt.timedelta(days=40)
        ),
        ledger.loss(fates=["damaged"], first_seen=None),
        ledger.loss(
            model=ledger.ranger,
            fates=["destroyed"],
            first_seen=DAY - dt.timedelta(days=3),
            unit="215th Corps",
        ),
    ]
    hidden = [
        ledger.loss(status=ReviewStatus.SUBMITTED, first_seen=DAY),
        ledger.loss(status=ReviewStatus.DRAFT, first_seen=DAY),
        ledger.loss(status=ReviewStatus.REJECTED, first_seen=DAY),
    ]
    return Published(ledger, kunduz, imam_sahib, herat, public, hidden)
