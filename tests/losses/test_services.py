"""Writes to the ledger: validation, history, optimistic locking, merges, database constraints."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from attrition.catalog.models import Conflict, Side
from attrition.errors import InvalidInput, StaleEdit
from attrition.history import ChangeKind, diff
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import (
    loss_create,
    loss_merge,
    loss_set_status,
    loss_unmerge,
    loss_update,
)
from tests.ledger import Ledger


@pytest.mark.parametrize("bad", ["exploded", "", {"fate": "sunk"}, {"fate": "destroyed", "x": 1}])
def test_it_refuses_an_invalid_fate_and_saves_nothing(ledger: Ledger, bad: object) -> None:
    with pytest.raises(InvalidInput, match="fate"):
        ledger.loss(fates=[bad])
    assert Loss.objects.count() == 0
    assert LossVersion.objects.count() == 0


def test_it_refuses_a_loss_with_no_fate(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="at least one fate"):
        loss_create(conflict=ledger.conflict, side=ledger.afghan, model=ledger.t62, fates=[])


def test_it_refuses_sides_from_another_conflict(ledger: Ledger) -> None:
    other = Conflict.objects.create(slug="other", name="Other war")
    stranger = Side.objects.create(conflict=other, slug="x", name="X", short_name="X")
    with pytest.raises(InvalidInput, match="not a side of this conflict"):
        ledger.loss(side=stranger)
    with pytest.raises(InvalidInput, match="not a side of this conflict"):
        ledger.loss(fates=["captured"], captured_by=stranger)
    assert Loss.objects.count() == 0


def test_it_refuses_a_captor_that_is_the_losing_side(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="captor"):
        ledger.loss(fates=["captured"], captured_by=ledger.afghan)


def test_it_refuses_unknown_fields_and_out_of_range_points(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="unknown loss fields: colour"):
        ledger.loss(colour="green")
    with pytest.raises(InvalidInput, match="not valid"):
        ledger.loss(lon=200.0, lat=10.0)
    with pytest.raises(InvalidInput, match="not valid"):
        ledger.loss(lon=69.0)  # a point needs both coordinates
    assert Loss.objects.count() == 0


def test_every_change_is_a_version_with_who_when_and_why(ledger: Ledger, admin_user) -> None:
    loss = ledger.loss(markings="", status=ReviewStatus.SUBMITTED)
    loss_update(loss=loss, markings="211", by=admin_user, reason="hull number in 2nd video")
    loss_set_status(loss=loss, status=ReviewStatus.VERIFIED, by=admin_user)

    versions = list(LossVersion.objects.filter(record=loss).order_by("version"))

    assert [v.change_kind for v in versions] == [
        ChangeKind.CREATE,
        ChangeKind.UPDATE,
        ChangeKind.STATUS,
    ]
    assert [v.valid_to is None for v in versions] == [False, False, True]
    assert versions[0].valid_to == versions[1].valid_from
    assert versions[1].changed_by == admin_user
    assert versions[1].change_reason == "hull number in 2nd video"
    changes = diff(versions[0], versions[1], fields=["markings", "status", "fate"])
    assert [(c.field, c.old, c.new) for c in changes] == [("markings", "", "211")]


def test_a_stale_edit_is_refused_and_changes_nothing(ledger: Ledger) -> None:
    loss = ledger.loss()
    opened_at = loss.revision
    loss_update(loss=loss, unit="215th Corps", revision=opened_at)

    with pytest.raises(StaleEdit, match="changed by"):
        loss_update(loss=loss, unit="209th Corps", revision=opened_at)

    loss.refresh_from_db()
    assert loss.unit == "215th Corps"
    assert LossVersion.objects.filter(record=loss).count() == 2


def test_a_failed_edit_leaves_the_record_and_history_as_they_were(ledger: Ledger) -> None:
    loss = ledger.loss()
    with pytest.raises(InvalidInput):
        loss_update(loss=loss, fates=["teleported"])
    loss.refresh_from_db()
    assert loss.fate == "destroyed"
    assert loss.revision == 1
    assert LossVersion.objects.filter(record=loss).count() == 1


def test_merges_stay_one_level_deep(ledger: Ledger) -> None:
    a, b, c = ledger.loss(), ledger.loss(), ledger.loss()
    loss_merge(loss=a, into=b)
    loss_merge(loss=b, into=c)  # a was merged into b: it now points at c

    a.refresh_from_db()
    assert a.merged_into_id == c.pk
    with pytest.raises(InvalidInput, match="itself merged"):
        loss_merge(loss=ledger.loss(), into=b)
    with pytest.raises(InvalidInput, match="into itself"):
        loss_merge(loss=c, into=c)


def test_it_undoes_a_merge_with_its_evidence_and_history(ledger: Ledger) -> None:
    kept = ledger.loss(evidence=[ledger.evidence(1)])
    duplicate = ledger.loss(evidence=[ledger.evidence(2), ledger.evidence(3)])
    loss_merge(loss=duplicate, into=kept, reason="same hull number")
    assert kept.depictions.count() == 3

    loss_unmerge(loss=duplicate, reason="different vehicles after all")

    duplicate.refresh_from_db()
    assert duplicate.status == ReviewStatus.VERIFIED
    assert duplicate.merged_into_id is None
    assert sorted(d.evidence.url for d in duplicate.depictions.all()) == [
        "https://t.me/test_channel/2",
        "https://t.me/test_channel/3",
    ]
    assert [d.evidence.url for d in kept.depictions.all()] == ["https://t.me/test_channel/1"]
    kinds = list(
        LossVersion.objects.filter(record=duplicate)
        .order_by("version")
        .values_list("change_kind", flat=True)
    )
    assert kinds[-2:] == [ChangeKind.MERGE, ChangeKind.REVERT]
    with pytest.raises(InvalidInput, match="is not merged"):
        loss_unmerge(loss=duplicate)


def test_the_database_refuses_what_the_services_refuse(ledger: Ledger) -> None:
    """Constraints hold even for writes that bypass the services (a script, a bad migration)."""
    a = ledger.loss()
    b = ledger.loss()
    loss_merge(loss=a, into=b)
    cases = [
        lambda: Loss.objects.filter(pk=b.pk).update(fate="exploded"),
        lambda: Loss.objects.filter(pk=b.pk).update(status="published"),
        lambda: Loss.objects.filter(pk=b.pk).update(status=ReviewStatus.MERGED),
        lambda: Loss.objects.filter(pk=b.pk).update(merged_into=b),
        # b has a merged into it, so b cannot itself become a merged record
        lambda: Loss.objects.filter(pk=b.pk).update(
            status=ReviewStatus.MERGED, merged_into=ledger.loss()
        ),
        # nothing may be merged into a merged record
        lambda: Loss.objects.filter(pk=ledger.loss().pk).update(
            status=ReviewStatus.MERGED, merged_into=a
        ),
        lambda: Loss.objects.filter(pk=b.pk).update(captured_by=ledger.afghan),
    ]
    for number, case in enumerate(cases):
        with pytest.raises(IntegrityError), transaction.atomic():  # noqa: PT012
            case()
            pytest.fail(f"case {number} was allowed")
    b.refresh_from_db()
    assert (b.status, b.fate, b.merged_into_id) == (ReviewStatus.VERIFIED, "destroyed", None)


def test_the_merge_guard_comes_back_after_a_table_rebuild(ledger: Ledger) -> None:
    """SQLite drops triggers when a migration rebuilds the table; post_migrate puts them back."""
    from django.db import connection

    from attrition.losses.guards import merge_guard_drop, on_post_migrate

    a, b = ledger.loss(), ledger.loss()
    loss_merge(loss=a, into=b)
    merge_guard_drop(connection=connection)
    on_post_migrate(sender=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        Loss.objects.filter(pk=ledger.loss().pk).update(status=ReviewStatus.MERGED, merged_into=a)


def test_a_deleted_loss_can_be_restored_and_both_steps_are_on_record(ledger: Ledger) -> None:
    from attrition.losses.services import loss_delete, loss_restore
    from attrition.losses.tally import tally_count

    loss = ledger.loss()
    loss_delete(loss=loss, reason="looked like a duplicate")
    assert tally_count(conflict=ledger.conflict).total == 0

    loss_restore(loss=loss, reason="it was not")

    assert tally_count(conflict=ledger.conflict).total == 1
    kinds = list(
        LossVersion.objects.filter(record=loss)
        .order_by("version")
        .values_list("change_kind", flat=True)
    )
    assert kinds == [ChangeKind.CREATE, ChangeKind.DELETE, ChangeKind.RESTORE]
    with pytest.raises(InvalidInput, match="not deleted"):
        loss_restore(loss=loss)
