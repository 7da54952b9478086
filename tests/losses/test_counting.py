"""The counting rules: what a public count includes, and how each item is counted once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from attrition.errors import InvalidInput
from attrition.losses.choices import Fate, ReviewStatus
from attrition.losses.selectors import conflict_ledger
from attrition.losses.services import loss_delete, loss_merge, loss_set_status, loss_update
from attrition.losses.tally import TallyRule, tally_count
from tests.ledger import Ledger


def test_it_counts_a_loss_under_its_last_state(ledger: Ledger) -> None:
    ledger.loss(fates=["captured", "destroyed"])
    ledger.loss(fates=["damaged", "abandoned"])
    ledger.loss(fates=["damaged", "captured"])

    result = tally_count(conflict=ledger.conflict)

    assert result.total == 3
    assert result.by_fate == {"destroyed": 1, "abandoned": 1, "captured": 1}
    assert "damaged" not in result.by_fate


def test_it_keeps_the_fate_history_in_order(ledger: Ledger) -> None:
    loss = ledger.loss(
        fates=[
            {"fate": "captured", "date": "2021-08-01"},
            {"fate": "destroyed", "detail": "airstrike"},
        ]
    )

    assert loss.fate == Fate.DESTROYED
    assert [e["fate"] for e in loss.fate_history] == ["captured", "destroyed"]
    assert loss.fate_history[1]["detail"] == "airstrike"


def test_it_counts_one_item_once_however_many_links(ledger: Ledger) -> None:
    posts = [ledger.evidence(n) for n in range(3)]
    ledger.loss(evidence=posts)

    assert tally_count(conflict=ledger.conflict).total == 1
    page = conflict_ledger(conflict=ledger.conflict)
    line = page.sides[0].categories[0].lines[0]
    assert line.total == 1
    assert [link.label for link in line.links] == ["1, destroyed"] * 3


def test_it_does_not_count_merged_duplicates(ledger: Ledger) -> None:
    original = ledger.loss(evidence=[ledger.evidence(1)])
    duplicate = ledger.loss(evidence=[ledger.evidence(2)])
    assert tally_count(conflict=ledger.conflict).total == 2

    loss_merge(loss=duplicate, into=original, reason="same hull number")

    assert tally_count(conflict=ledger.conflict).total == 1
    duplicate.refresh_from_db()
    assert duplicate.status == ReviewStatus.MERGED
    assert duplicate.merged_into_id == original.pk
    # The duplicate's evidence now documents the original: nothing is lost.
    assert set(original.depictions.values_list("evidence__canonical_url", flat=True)) == {
        "https://t.me/test_channel/1",
        "https://t.me/test_channel/2",
    }


@pytest.mark.parametrize(
    "status", [ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.REJECTED]
)
def test_it_does_not_count_unverified_losses(ledger: Ledger, status: str) -> None:
    ledger.loss(status=ReviewStatus.VERIFIED)
    loss = ledger.loss(status=ReviewStatus.SUBMITTED)
    if status != ReviewStatus.SUBMITTED:
        loss_set_status(loss=loss, status=status, reason="test")

    assert tally_count(conflict=ledger.conflict).total == 1
    page = conflict_ledger(conflict=ledger.conflict)
    assert page.sides[0].counts.total == 1


def test_it_does_not_count_deleted_losses(ledger: Ledger) -> None:
    keep = ledger.loss()
    gone = ledger.loss()
    loss_delete(loss=gone, reason="entered twice by mistake")

    assert tally_count(conflict=ledger.conflict).total == 1
    gone.refresh_from_db()
    assert gone.deleted_at is not None  # soft: still on record
    assert keep.deleted_at is None


def test_it_writes_the_headline_in_the_trackers_form(ledger: Ledger) -> None:
    ledger.loss(fates=["destroyed"])
    ledger.loss(fates=["captured"])
    ledger.loss(model=ledger.ranger, fates=["captured"])
    ledger.loss(side=ledger.taliban, model=ledger.ranger, fates=["destroyed"])

    page = conflict_ledger(conflict=ledger.conflict)

    afghan, taliban = page.sides
    assert afghan.counts.sentence("Afghan forces") == (
        "Afghan forces: 3, of which destroyed: 1, damaged: 0, abandoned: 0, captured: 2"
    )
    assert taliban.counts.total == 1
    assert [(b.category.slug, b.counts.total) for b in afghan.categories] == [
        ("test-tanks", 2),
        ("test-trucks", 1),
    ]


def test_it_numbers_items_per_model_and_groups_links_by_fate(ledger: Ledger) -> None:
    video = ledger.evidence(1)
    photo = ledger.evidence(2)
    ledger.loss(first_seen=dt.date(2021, 6, 1), fates=["destroyed"], evidence=[photo])
    ledger.loss(first_seen=dt.date(2021, 6, 2), fates=["captured"], evidence=[video])
    ledger.loss(first_seen=dt.date(2021, 6, 3), fates=["captured"], evidence=[video])

    line = conflict_ledger(conflict=ledger.conflict).sides[0].categories[0].lines[0]

    assert [link.label for link in line.links] == ["1, destroyed", "2 and 3, captured"]


def test_it_counts_as_of_a_past_moment(ledger: Ledger) -> None:
    loss = ledger.loss(fates=["captured"])
    before = timezone.now()
    loss_update(loss=loss, fates=["captured", "destroyed"], reason="later video")
    ledger.loss(fates=["abandoned"])

    then = tally_count(conflict=ledger.conflict, as_of=before)
    now = tally_count(conflict=ledger.conflict)

    assert then.total == 1
    assert then.by_fate == {"captured": 1}
    assert now.total == 2
    assert now.by_fate == {"destroyed": 1, "abandoned": 1}


def test_a_rule_selects_categories_sides_and_fates(ledger: Ledger) -> None:
    ledger.loss(model=ledger.t62, fates=["captured"])
    ledger.loss(model=ledger.t55, fates=["destroyed"])
    ledger.loss(model=ledger.ranger, fates=["captured"])
    ledger.loss(side=ledger.taliban, model=ledger.t55, fates=["destroyed"])

    armour = TallyRule(sides=["andsf"], categories_out=["test-trucks"])
    captured = TallyRule(fates=[Fate.CAPTURED])

    assert tally_count(conflict=ledger.conflict, rule=armour).total == 2
    assert tally_count(conflict=ledger.conflict, rule=captured).total == 2


def test_a_rule_naming_an_unknown_side_or_category_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="unknown side"):
        tally_count(conflict=ledger.conflict, rule=TallyRule(sides=["nobody"]))
    with pytest.raises(InvalidInput, match="unknown category"):
        tally_count(conflict=ledger.conflict, rule=TallyRule(categories_in=["spaceships"]))
    with pytest.raises(InvalidInput, match="never counted"):
        TallyRule.parse({"statuses": ["merged"]})
