"""The bulk write path leaves the same rows as the one-by-one services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import models

from attrition.catalog.models import Conflict, EquipmentModel
from attrition.evidence.models import Evidence, EvidenceVersion
from attrition.evidence.services import evidence_create
from attrition.importers import bulk
from attrition.importers.models import SourceRecord
from attrition.losses.models import Depiction, DepictionVersion, Loss, LossVersion
from attrition.losses.services import depiction_create, loss_build, loss_create

pytestmark = pytest.mark.usefixtures("reference")

# What necessarily differs between two records written at different times.
VARYING = {
    "id",
    "record",
    "created_at",
    "updated_at",
    "valid_from",
    "first_imported_at",
    "last_seen_at",
    "loss",
    "evidence",
    "canonical_url",
    "original_url",
    "external_id",
}


def values(row: models.Model) -> dict[str, Any]:
    return {
        f.name: getattr(row, f.attname) for f in row._meta.concrete_fields if f.name not in VARYING
    }


def test_it_writes_the_same_rows_as_the_services() -> None:
    user = get_user_model().objects.create_user(username="importer", password="x")
    conflict = Conflict.objects.get(slug="russia-ukraine-2022")
    russia, ukraine = conflict.sides.get(slug="russia"), conflict.sides.get(slug="ukraine")
    model = EquipmentModel.objects.first()
    assert model is not None
    fates = [{"fate": "captured", "detail": ""}, {"fate": "destroyed", "detail": "by drone"}]
    common: dict[str, Any] = {
        "conflict": conflict,
        "side": russia,
        "model": model,
        "fates": fates,
        "by": user,
        "status": "submitted",
        "captured_by": ukraine,
        "description": "with ZU-23",
    }
    one = loss_create(**common, via="import", reason="imported from x")
    evidence_one = evidence_create(url="https://t.me/a/1", by=user, via="import")
    depiction_create(loss=one, evidence=evidence_one, item_number=3, by=user, via="import")
    record_one = SourceRecord.objects.create(
        source="s",
        external_id="1",
        raw={"a": 1},
        loss=one,
        evidence=evidence_one,
        content_hash="h",
    )
    evidence_two = bulk.evidence_ensure(["https://t.me/a/2"], by=user, via="import")
    new = bulk.NewLoss(
        loss=loss_build(**common),
        evidence=[evidence_two["https://t.me/a/2"]],
        record=SourceRecord(
            source="s",
            external_id="2",
            raw={"a": 1},
            evidence=evidence_two["https://t.me/a/2"],
            content_hash="h",
        ),
        item_number=3,
    )
    bulk.losses_write([new], by=user, via="import", reason="imported from x")
    two = new.loss
    assert values(Loss.objects.get(pk=one.pk)) == values(Loss.objects.get(pk=two.pk))
    pairs = [
        (LossVersion, one.pk, two.pk),
        (EvidenceVersion, evidence_one.pk, evidence_two["https://t.me/a/2"].pk),
        (DepictionVersion, Depiction.objects.get(loss=one).pk, Depiction.objects.get(loss=two).pk),
    ]
    for version_model, a, b in pairs:
        first = version_model._default_manager.get(record_id=a)
        second = version_model._default_manager.get(record_id=b)
        assert values(first) == values(second), version_model.__name__
    assert values(Depiction.objects.get(loss=one)) == values(Depiction.objects.get(loss=two))
    assert values(Evidence.objects.get(pk=evidence_one.pk)) == values(
        Evidence.objects.get(pk=evidence_two["https://t.me/a/2"].pk)
    )
    assert values(record_one) == values(SourceRecord.objects.get(loss=two))
