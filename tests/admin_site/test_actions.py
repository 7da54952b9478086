"""Soft delete and restore, merging duplicates, and evidence that nobody may change."""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client

from attrition.accounts.models import User
from attrition.evidence.models import Capture, CustodyRecord, Evidence, EvidenceVersion
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Depiction, Loss, LossVersion, Tally
from attrition.territory.models import ControlRecord
from tests.admin_site.conftest import World, action, admin_url, confirmed, messages_of

SOFT_DELETED = [Loss, Evidence, Depiction, Tally, ControlRecord]


@pytest.mark.parametrize("model", SOFT_DELETED)
def test_nobody_hard_deletes_ledger_records(
    world: World, admin_client: Client, model: type[models.Model]
) -> None:
    row = model._default_manager.order_by("pk").first()
    assert row is not None

    page = admin_client.get(admin_url(model, "changelist")).content.decode()

    assert admin_client.get(admin_url(model, "delete", row.pk)).status_code == 403
    assert admin_client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert 'value="delete_selected"' not in page
    assert 'value="soft_delete"' in page


def test_a_soft_deleted_loss_stays_on_record_with_a_version(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    url = admin_url(Loss, "changelist")

    asked = reviewer_client.post(url, action("soft_delete", world.loss))
    done = reviewer_client.post(url, confirmed("soft_delete", world.loss, reason="a duplicate"))

    assert asked.status_code == 200
    assert "a duplicate" not in asked.content.decode()
    assert done.status_code == 302
    world.loss.refresh_from_db()
    assert world.loss.deleted_at is not None
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None
    assert (latest.change_kind, latest.change_reason, latest.changed_by, latest.changed_via) == (
        ChangeKind.DELETE,
        "a duplicate",
        reviewer,
        "admin",
    )


def test_the_list_shows_live_records_unless_asked_for_deleted_ones(
    world: World, admin_client: Client
) -> None:
    kept = world.ledger.loss(markings="kept")
    admin_client.post(
        admin_url(Loss, "changelist"), confirmed("soft_delete", world.loss, reason="x")
    )

    def listed(**query: str) -> list[int]:
        response = admin_client.get(admin_url(Loss, "changelist"), query)
        return sorted(loss.pk for loss in response.context["cl"].result_list)

    assert listed() == [kept.pk]
    assert listed(deleted="yes") == [world.loss.pk]
    assert listed(deleted="all") == sorted([kept.pk, world.loss.pk])


def test_a_deletion_needs_a_reason(world: World, admin_client: Client) -> None:
    response = admin_client.post(
        admin_url(Evidence, "changelist"), confirmed("soft_delete", world.evidence, reason=" ")
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    world.evidence.refresh_from_db()
    assert world.evidence.deleted_at is None


def test_soft_deleting_evidence_records_a_delete_version(
    world: World, admin_user: User, admin_client: Client
) -> None:
    admin_client.post(
        admin_url(Evidence, "changelist"),
        confirmed("soft_delete", world.evidence, reason="the post is fake"),
    )

    world.evidence.refresh_from_db()
    assert world.evidence.deleted_at is not None
    latest = EvidenceVersion.objects.filter(record=world.evidence).order_by("-version").first()
    assert latest is not None
    assert (latest.change_kind, latest.change_reason, latest.changed_by) == (
        ChangeKind.DELETE,
        "the post is fake",
        admin_user,
    )


def test_only_admins_restore(world: World, admin_client: Client, reviewer_client: Client) -> None:
    admin_client.post(
        admin_url(Loss, "changelist"), confirmed("soft_delete", world.loss, reason="by mistake")
    )
    url = admin_url(Loss, "changelist") + "?deleted=yes"

    reviewer_client.post(url, action("restore", world.loss))
    world.loss.refresh_from_db()
    assert world.loss.deleted_at is not None

    admin_client.post(url, action("restore", world.loss))
    world.loss.refresh_from_db()
    assert world.loss.deleted_at is None
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None
    assert latest.change_kind == ChangeKind.RESTORE
    assert latest.tag_names == ["test tag"]


def test_a_deleted_record_is_read_only_until_restored(world: World, admin_client: Client) -> None:
    admin_client.post(
        admin_url(Loss, "changelist"), confirmed("soft_delete", world.loss, reason="x")
    )

    response = admin_client.post(admin_url(Loss, "change", world.loss.pk), {})

    assert response.status_code == 403


def test_merging_two_losses_keeps_the_older(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    newer = world.ledger.loss(markings="211")
    url = admin_url(Loss, "changelist")

    asked = reviewer_client.post(url, action("merge", newer, world.loss))
    done = reviewer_client.post(url, confirmed("merge", newer, world.loss, reason="same hull no."))

    assert f"Merge #{newer.pk} into #{world.loss.pk}" in asked.content.decode()
    assert done.status_code == 302
    newer.refresh_from_db()
    assert (newer.status, newer.merged_into_id) == (ReviewStatus.MERGED, world.loss.pk)
    latest = LossVersion.objects.filter(record=newer).order_by("-version").first()
    assert latest is not None
    assert (latest.change_kind, latest.change_reason, latest.changed_by) == (
        ChangeKind.MERGE,
        "same hull no.",
        reviewer,
    )


@pytest.mark.parametrize("count", [1, 3])
def test_merging_needs_exactly_two_losses(
    world: World, reviewer_client: Client, count: int
) -> None:
    losses = [world.loss, *(world.ledger.loss() for _ in range(count - 1))]

    response = reviewer_client.post(admin_url(Loss, "changelist"), action("merge", *losses))

    assert f"Select exactly two losses to merge (you selected {count})" in " ".join(
        messages_of(response)
    )
    assert not Loss.objects.filter(status=ReviewStatus.MERGED).exists()


def test_a_refused_merge_says_why_and_changes_nothing(world: World, admin_client: Client) -> None:
    other = world.ledger.loss()
    url = admin_url(Loss, "changelist")
    admin_client.post(url, confirmed("merge", other, world.loss, reason="dup"))
    third = world.ledger.loss()

    response = admin_client.post(url, confirmed("merge", third, other, reason="dup"))

    assert "Not merged" in " ".join(messages_of(response))
    third.refresh_from_db()
    assert third.status == ReviewStatus.VERIFIED


@pytest.mark.parametrize("model", [Capture, CustodyRecord])
def test_captures_and_custody_are_read_only(
    world: World, admin_client: Client, model: type[models.Model]
) -> None:
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    url = admin_url(model, "change", row.pk)

    page = admin_client.get(url)

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(url, {"mime": "text/plain"}).status_code == 403
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.get(admin_url(model, "delete", row.pk)).status_code == 403
    assert world.capture.mime == Capture.objects.get(pk=world.capture.pk).mime
