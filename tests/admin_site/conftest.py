"""One row of every model the admin shows, built on the small test ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from attrition import history
from attrition.accounts.models import User
from attrition.catalog.models import CategoryMapping, ModelAlias
from attrition.claims.models import Claim
from attrition.dedup.models import MediaMatch
from attrition.evidence.models import Capture, CustodyRecord, Evidence, FrameHash, LivenessCheck
from attrition.history import ChangeKind
from attrition.importers.models import ColumnMapping, ImportRun, SourceRecord
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Depiction, Loss, Tally
from attrition.losses.services import depiction_create
from attrition.territory.models import AdminUnit, AdminUnitAlias, BoundarySet, ControlRecord
from tests.ledger import Ledger

SQUARE = {"type": "Polygon", "coordinates": [[[70, 34], [71, 34], [71, 35], [70, 35], [70, 34]]]}


@dataclass
class World:
    """The ledger plus one record of each kind, made by `contributor` where someone made it."""

    ledger: Ledger
    loss: Loss
    evidence: Evidence
    capture: Capture
    depiction: Depiction
    district: AdminUnit
    claim: Claim
    tally: Tally
    control: ControlRecord

    def rows(self) -> dict[type[models.Model], models.Model]:
        """Return one row of every model that has at least one, keyed by model."""
        from django.contrib import admin

        found = {}
        for model in admin.site._registry:
            row = model._default_manager.order_by("pk").first()
            if row is not None:
                found[model] = row
        return found


def _versioned(obj: models.Model, by: Any) -> Any:
    history.record_version(obj, by=by, kind=ChangeKind.CREATE, via="test")
    return obj


def _territory(ledger: Ledger) -> AdminUnit:
    boundaries = BoundarySet.objects.create(
        slug="test-aims", name="Test boundaries", source="tests", attribution="tests", licence="CC0"
    )
    ledger.conflict.boundary_set = boundaries
    ledger.conflict.save()
    country = AdminUnit.objects.create(boundary_set=boundaries, level=0, code="AF", name="Afg")
    province = AdminUnit.objects.create(
        boundary_set=boundaries, level=1, code="AF06", name="Nangarhar", parent=country
    )
    district = AdminUnit.objects.create(
        boundary_set=boundaries,
        level=2,
        code="AF0601",
        name="Achin",
        parent=province,
        geometry=SQUARE,
    )
    AdminUnitAlias.objects.create(unit=district, alias="Acheen", normalized="acheen")
    return district


def world_make(ledger: Ledger, *, by: User) -> World:
    """Create one record of every kind the admin shows, with versions where audited."""
    now = timezone.now()
    district = _territory(ledger)
    ModelAlias.objects.create(model=ledger.t62, alias="T62", normalized="t62")
    CategoryMapping.objects.create(source="oryx", source_category="Tanks", category=ledger.tanks)
    _versioned(ledger.t62, by)
    evidence = ledger.evidence(1)
    capture = Capture.objects.create(
        sha256="a" * 64, kind="image", storage_key="a/aa", mime="image/jpeg", size_bytes=2048
    )
    CustodyRecord.objects.create(
        evidence=evidence, capture=capture, method="http", collected_at=now, http_status=200
    )
    FrameHash.objects.create(capture=capture, t_ms=0, pdq="b" * 64, pdq_quality=90)
    LivenessCheck.objects.create(evidence=evidence, checked_at=now, result="alive")
    loss = ledger.loss(
        status=ReviewStatus.SUBMITTED, admin_unit=district, markings="211", tags=["test tag"]
    )
    Loss.objects.filter(pk=loss.pk).update(created_by=by, updated_by=by)
    depiction = depiction_create(loss=loss, evidence=evidence, capture=capture, by=by)
    SourceRecord.objects.create(
        source="oryx_html", external_id="1", raw_label="T-62", loss=loss, content_hash="c" * 64
    )
    ColumnMapping.objects.create(name="tracker-sheet", mapping={"side": {"column": "Side"}})
    ImportRun.objects.create(
        kind="csv",
        source_name="losses.csv",
        state=ImportRun.State.FAILED,
        error="row 2: no side",
        created_by=by,
    )
    claim = _versioned(
        Claim.objects.create(
            conflict=ledger.conflict,
            claimant="analysts",
            claimed_on=dt.date(2021, 7, 20),
            scope="military vehicles",
            kind="about",
            number=700,
            created_by=by,
        ),
        by,
    )
    tally = _versioned(
        Tally.objects.create(conflict=ledger.conflict, slug="all", name="All", rule={}), by
    )
    control = _versioned(
        ControlRecord.objects.create(
            unit=district,
            conflict=ledger.conflict,
            status="insurgent",
            controlling_side=ledger.taliban,
            since=dt.date(2021, 7, 1),
            created_by=by,
        ),
        by,
    )
    twin = Capture.objects.create(
        sha256="e" * 64, kind="image", storage_key="e/ee", mime="image/jpeg", size_bytes=2040
    )
    MediaMatch.objects.create(
        capture_a=capture, capture_b=twin, kind="pdq", band="auto", distance=4
    )
    loss.refresh_from_db()
    return World(ledger, loss, evidence, capture, depiction, district, claim, tally, control)


@pytest.fixture
def world(ledger: Ledger, contributor: User) -> World:
    return world_make(ledger, by=contributor)


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    """Return the admin URL of `view` (changelist, add, change, delete) for `model`."""
    from django.urls import reverse

    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def loss_form(ledger: Ledger, loss: Loss | None = None, **changes: Any) -> dict[str, Any]:
    """Return what the loss form posts: a new loss on the ledger, or `loss` unchanged."""
    data: dict[str, Any] = {
        "conflict": ledger.conflict.pk,
        "side": ledger.afghan.pk,
        "model": ledger.t62.pk,
        "fates_text": "destroyed",
        "captured_by": "",
        "status": ReviewStatus.DRAFT,
        "first_seen": "",
        "first_seen_precision": "day",
        "admin_unit": "",
        "lon": "",
        "lat": "",
        "place_precision": "unknown",
        "place_text": "",
        "unit": "",
        "markings": "",
        "tags_text": "",
        "description": "",
        "change_reason": "",
    }
    if loss is not None:
        from attrition.losses.admin import fates_to_text

        del data["conflict"]  # read-only once the loss exists
        data.update(
            side=loss.side_id,
            model=loss.model_id,
            fates_text=fates_to_text(loss.fate_history),
            captured_by=loss.captured_by_id or "",
            status=loss.status,
            revision=loss.revision,
            first_seen=loss.first_seen or "",
            first_seen_precision=loss.first_seen_precision,
            admin_unit=loss.admin_unit_id or "",
            place_precision=loss.place_precision,
            place_text=loss.place_text,
            unit=loss.unit,
            markings=loss.markings,
            tags_text=", ".join(sorted(t.name for t in loss.tags.all())),
            description=loss.description,
        )
    data.update(changes)
    return data


def action(name: str, *objects: models.Model, **extra: Any) -> dict[str, Any]:
    """Return what the changelist posts to run action `name` on `objects` (the first step)."""
    return {"action": name, "_selected_action": [o.pk for o in objects], "index": 0, **extra}


def confirmed(name: str, *objects: models.Model, reason: str) -> dict[str, Any]:
    """Return what the reason page posts to confirm action `name` on `objects`."""
    return {
        "action": name,
        "_selected_action": [o.pk for o in objects],
        "confirm": "yes",
        "reason": reason,
    }


def messages_of(response: Any) -> list[str]:
    """Return the texts of the messages the admin queued for the user."""
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]
