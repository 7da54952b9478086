"""History: every earlier version of a record can be reproduced exactly, and reverted to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from attrition import history
from attrition.accounts.models import User
from attrition.errors import InvalidInput
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_create, loss_merge, loss_revert, loss_update
from attrition.review.workflow import Action, review_transition
from tests.ledger import Ledger


def snapshot(loss: Loss) -> dict[str, Any]:
    """Return the record as it is now, read from its own table (not from the history)."""
    fresh = Loss.objects.get(pk=loss.pk)
    values = {f.attname: getattr(fresh, f.attname) for f in history.audited_fields(Loss)}
    values["tag_names"] = sorted(fresh.tags.values_list("name", flat=True))
    return values


def as_versioned(version: Any) -> dict[str, Any]:
    return {**history.version_values(version), "tag_names": sorted(version.tag_names)}


def test_it_reproduces_every_earlier_version_exactly(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = loss_create(
        conflict=ledger.conflict,
        side=ledger.afghan,
        model=ledger.t62,
        fates=["abandoned"],
        status=ReviewStatus.DRAFT,
        tags=["column"],
        by=contributor,
    )
    seen = [snapshot(loss)]
    edits: list[dict[str, Any]] = [
        {"markings": "211", "first_seen": dt.date(2021, 7, 3)},
        {"fates": ["abandoned", "captured"], "captured_by": ledger.taliban},
        {"tags": ["column", "Kunduz road"], "lat": 36.7, "lon": 68.9},
        {"model": ledger.t55, "description": "turret number repainted"},
        {"markings": "", "tags": []},
    ]
    for edit in edits:
        loss = loss_update(loss=loss, by=contributor, **edit)
        seen.append(snapshot(loss))
    review_transition(record=loss, action=Action.SUBMIT, by=contributor)
    seen.append(snapshot(loss))
    review_transition(record=loss, action=Action.VERIFY, by=reviewer)
    seen.append(snapshot(loss))

    versions = list(LossVersion.objects.filter(record=loss).order_by("version"))
    assert len(versions) == len(seen)
    for version, expected in zip(versions, seen, strict=True):
        assert as_versioned(version) == expected, f"version {version.version}"


def test_it_reverts_content_to_an_earlier_version_as_a_new_version(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = loss_create(
        conflict=ledger.conflict,
        side=ledger.afghan,
        model=ledger.t62,
        fates=["destroyed"],
        status=ReviewStatus.SUBMITTED,
        markings="211",
        tags=["a"],
        by=contributor,
    )
    first = snapshot(loss)
    loss_update(loss=loss, markings="999", fates=["captured"], tags=["b"], by=contributor)

    reverted = loss_revert(loss=loss, version=1, by=reviewer, reason="the old markings were right")

    now = snapshot(reverted)
    content = {k: v for k, v in now.items() if k not in ("revision", "updated_at", "updated_by_id")}
    assert content == {
        k: v for k, v in first.items() if k not in ("revision", "updated_at", "updated_by_id")
    }
    latest = LossVersion.objects.filter(record=loss).latest("version")
    assert (latest.version, latest.change_kind, latest.changed_by) == (
        3,
        ChangeKind.REVERT,
        reviewer,
    )
    assert latest.change_reason == "the old markings were right"
    # The version reverted away from is still there to go back to.
    assert LossVersion.objects.get(record=loss, version=2).markings == "999"


def test_a_revert_keeps_the_review_status_and_refuses_merged_losses(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = ledger.loss(status=ReviewStatus.SUBMITTED, markings="1")
    other = ledger.loss(status=ReviewStatus.SUBMITTED)
    loss_update(loss=loss, markings="2", by=contributor)

    back = loss_revert(loss=loss, version=1, by=reviewer)
    assert (back.markings, back.status) == ("1", ReviewStatus.SUBMITTED)

    loss_merge(loss=loss, into=other, by=reviewer)
    with pytest.raises(InvalidInput, match="merged"):
        loss_revert(loss=loss, version=1, by=reviewer)
    with pytest.raises(InvalidInput, match="no version 99"):
        loss_revert(loss=other, version=99, by=reviewer)
