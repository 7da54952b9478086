"""Sample data: loads once, counts like real data, is marked, and goes away with one call."""

from __future__ import annotations

import pytest

from attrition.catalog.models import Conflict, EquipmentModel, Side
from attrition.demo import demo_load, demo_remove
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.services import depiction_create, loss_create
from attrition.losses.tally import tally_count
from attrition.reference.load import reference_load


@pytest.fixture
def reference(db: None) -> Conflict:
    reference_load()
    return Conflict.objects.get(slug="afghanistan-2021")


def test_it_refuses_to_load_without_the_reference_data(db: None) -> None:
    with pytest.raises(InvalidInput, match="attrition reference"):
        demo_load()


def test_it_loads_once_and_every_record_is_marked_sample(reference: Conflict) -> None:
    first = demo_load()
    second = demo_load()

    assert first["losses"] > 50
    assert second == {"losses": 0, "evidence": 0, "claims": 0, "tallies": 0}
    assert not Loss.objects.filter(is_sample=False).exists()
    assert not Evidence.objects.filter(is_sample=False).exists()
    assert all(
        url.startswith("https://sample.invalid/")
        for url in Evidence.objects.values_list("canonical_url", flat=True)
    )


def test_sample_counts_follow_the_counting_rules(reference: Conflict) -> None:
    demo_load()
    public = Loss.objects.filter(status=ReviewStatus.VERIFIED, deleted_at__isnull=True)

    result = tally_count(conflict=reference)

    assert result.total == public.count()
    assert Loss.objects.filter(status=ReviewStatus.MERGED).count() == 2
    assert Loss.objects.exclude(status=ReviewStatus.VERIFIED).count() > 2


def test_remove_takes_every_sample_record_and_leaves_real_ones(reference: Conflict) -> None:
    demo_load()
    real = loss_create(
        conflict=reference,
        side=Side.objects.get(conflict=reference, slug="andsf"),
        model=EquipmentModel.objects.get(name="T-62M"),
        fates=["captured"],
        status=ReviewStatus.VERIFIED,
    )
    depiction_create(loss=real, evidence=evidence_create(url="https://t.me/real_channel/1"))

    removed = demo_remove()

    assert removed["losses"] > 50
    assert list(Loss.objects.all()) == [real]
    assert Evidence.objects.count() == 1
    assert tally_count(conflict=reference).total == 1
