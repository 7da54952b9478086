"""Revert to an earlier version from the admin, on every audited record; the revert is recorded."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from attrition import history
from attrition.accounts.models import User
from attrition.claims.models import Claim, ClaimVersion
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_update
from tests.admin_site.conftest import World, admin_url


def revert_url(model: type, pk: int, version: int) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_revert", args=[pk, version])


def edit_claim(claim: Claim, by: User, **changes: object) -> None:
    Claim.objects.filter(pk=claim.pk).update(**changes)
    claim.refresh_from_db()
    history.record_version(claim, by=by, kind=ChangeKind.UPDATE, via="test")


def test_it_shows_what_a_revert_will_change_then_records_it(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    edit_claim(world.claim, reviewer, number=650, quote="about 650")
    page = reviewer_client.get(admin_url(Claim, "change", world.claim.pk))
    assert revert_url(Claim, world.claim.pk, 1) in page.content.decode()

    asked = reviewer_client.get(revert_url(Claim, world.claim.pk, 1))
    done = reviewer_client.post(revert_url(Claim, world.claim.pk, 1), {"reason": "typo"})

    assert "650" in asked.content.decode()
    assert "700" in asked.content.decode()
    assert done.status_code == 302
    world.claim.refresh_from_db()
    assert (world.claim.number, world.claim.quote) == (700, "")
    latest = ClaimVersion.objects.filter(record=world.claim).latest("version")
    assert (latest.version, latest.change_kind, latest.change_reason) == (3, "revert", "typo")
    assert latest.changed_by == reviewer


def test_a_revert_leaves_the_review_status_alone(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    edit_claim(world.claim, reviewer, number=650, status=ReviewStatus.SUBMITTED)

    reviewer_client.post(revert_url(Claim, world.claim.pk, 1), {"reason": ""})

    world.claim.refresh_from_db()
    assert (world.claim.number, world.claim.status) == (700, ReviewStatus.SUBMITTED)


def test_only_those_who_may_edit_a_record_revert_it(
    world: World, reviewer: User, contributor_client: Client
) -> None:
    Claim.objects.filter(pk=world.claim.pk).update(created_by=reviewer)
    edit_claim(world.claim, reviewer, number=650)

    response = contributor_client.post(revert_url(Claim, world.claim.pk, 1), {"reason": "mine"})

    assert response.status_code == 403
    world.claim.refresh_from_db()
    assert world.claim.number == 650


def test_a_loss_reverts_through_its_service_with_fates_and_tags(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    loss_update(loss=world.loss, markings="999", fates=["captured"], tags=["x"], by=reviewer)

    reviewer_client.post(revert_url(Loss, world.loss.pk, 1), {"reason": "back"})

    world.loss.refresh_from_db()
    assert (world.loss.markings, world.loss.fate) == ("211", "destroyed")
    assert sorted(t.name for t in world.loss.tags.all()) == ["test tag"]
    latest = LossVersion.objects.filter(record=world.loss).latest("version")
    assert (latest.change_kind, latest.changed_via) == ("revert", "admin")
