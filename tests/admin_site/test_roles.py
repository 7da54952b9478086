"""What each role may do in the admin: the role field decides, on the server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client

from attrition.accounts.models import User
from attrition.catalog.models import (
    Category,
    CategoryMapping,
    Conflict,
    EquipmentModel,
    ModelAlias,
    Side,
)
from attrition.claims.models import Claim, ClaimVersion
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_update
from attrition.territory.models import AdminUnit, AdminUnitAlias, BoundarySet, ControlRecord
from tests.admin_site.conftest import World, action, admin_url, confirmed, loss_form, messages_of

TAXONOMY = [Category, EquipmentModel, ModelAlias, CategoryMapping, Conflict, Side]
TAXONOMY += [BoundarySet, AdminUnit, AdminUnitAlias]


@pytest.mark.parametrize("model", [*TAXONOMY, User])
def test_a_contributor_cannot_reach_the_taxonomy_or_the_users(
    world: World, contributor_client: Client, model: type[models.Model]
) -> None:
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", row.pk),
    ):
        assert contributor_client.get(url).status_code == 403, url


@pytest.mark.parametrize("model", TAXONOMY)
def test_a_reviewer_reads_the_taxonomy_but_cannot_edit_it(
    world: World, reviewer_client: Client, model: type[models.Model]
) -> None:
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    assert reviewer_client.get(admin_url(model, "changelist")).status_code == 200
    assert reviewer_client.get(admin_url(model, "add")).status_code == 403
    assert reviewer_client.post(admin_url(model, "change", row.pk), {}).status_code == 403


def test_only_admins_see_the_users_and_can_filter_them_by_role(
    world: World, admin_client: Client, reviewer_client: Client
) -> None:
    assert reviewer_client.get(admin_url(User, "changelist")).status_code == 403

    response = admin_client.get(admin_url(User, "changelist"), {"role": "reviewer"})

    assert response.status_code == 200
    assert [u.username for u in response.context["cl"].result_list] == ["bob"]
    assert not admin.site.is_registered(Group)  # roles, not groups, decide


def test_a_contributor_picks_models_and_places_without_seeing_the_taxonomy(
    world: World, contributor_client: Client
) -> None:
    query = {"app_label": "losses", "model_name": "loss", "term": "T-62"}

    found = contributor_client.get("/admin/autocomplete/", {**query, "field_name": "model"})
    place = contributor_client.get(
        "/admin/autocomplete/", {**query, "field_name": "admin_unit", "term": "Ach"}
    )

    assert [r["text"] for r in found.json()["results"]] == ["T-62 (test)"]
    assert [r["text"] for r in place.json()["results"]] == ["Achin, Nangarhar"]


def test_a_contributor_adds_losses_evidence_and_claims(
    world: World, contributor: User, contributor_client: Client
) -> None:
    for model in (Loss, Claim, ControlRecord):
        assert contributor_client.get(admin_url(model, "add")).status_code == 200
    response = contributor_client.post(admin_url(Loss, "add"), loss_form(world.ledger))
    assert response.status_code == 302
    assert Loss.objects.filter(created_by=contributor).exists()


def test_staff_without_a_role_and_readers_are_kept_out(world: World, anon_client: Client) -> None:
    User.objects.create_user(username="dora", password="dora-password", is_staff=False)
    outsider = Client()
    outsider.login(username="dora", password="dora-password")

    for client in (anon_client, outsider):
        response = client.get(admin_url(Loss, "changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_a_contributor_cannot_mark_verified(world: World, contributor_client: Client) -> None:
    response = contributor_client.post(
        admin_url(Loss, "changelist"), action("mark_verified", world.loss)
    )

    assert response.status_code in (200, 302)
    assert "Mark verified" not in contributor_client.get(admin_url(Loss, "changelist")).text
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.SUBMITTED


def test_a_reviewer_verifies_a_loss_someone_else_made(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    response = reviewer_client.post(
        admin_url(Loss, "changelist"), action("mark_verified", world.loss)
    )

    assert response.status_code == 302
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.VERIFIED
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None
    assert (latest.change_kind, latest.changed_by, latest.changed_via) == (
        ChangeKind.STATUS,
        reviewer,
        "admin",
    )


@pytest.mark.parametrize("how", ["created", "last edited"])
def test_a_reviewer_cannot_verify_their_own_loss(
    world: World, reviewer: User, reviewer_client: Client, how: str
) -> None:
    if how == "created":
        Loss.objects.filter(pk=world.loss.pk).update(created_by=reviewer)
    else:
        loss_update(loss=world.loss, markings="212", by=reviewer)

    response = reviewer_client.post(
        admin_url(Loss, "changelist"), action("mark_verified", world.loss)
    )

    assert "four-eyes rule" in " ".join(messages_of(response))
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.SUBMITTED


def test_an_admin_cannot_verify_their_own_loss_either(
    world: World, admin_user: User, admin_client: Client
) -> None:
    Loss.objects.filter(pk=world.loss.pk).update(created_by=admin_user)

    response = admin_client.post(admin_url(Loss, "changelist"), action("mark_verified", world.loss))

    assert "four-eyes rule" in " ".join(messages_of(response))
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.SUBMITTED


def test_a_rejection_asks_for_a_reason_then_records_it(
    world: World, reviewer_client: Client
) -> None:
    url = admin_url(Loss, "changelist")

    asked = reviewer_client.post(url, action("reject", world.loss))
    done = reviewer_client.post(url, confirmed("reject", world.loss, reason="a T-55, not a T-62"))

    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert done.status_code == 302
    world.loss.refresh_from_db()
    assert (world.loss.status, world.loss.status_reason) == (
        ReviewStatus.REJECTED,
        "a T-55, not a T-62",
    )


def test_claims_follow_the_same_review_rules(
    world: World, contributor: User, reviewer_client: Client, contributor_client: Client
) -> None:
    url = admin_url(Claim, "changelist")
    contributor_client.post(url, action("mark_verified", world.claim))
    world.claim.refresh_from_db()
    assert world.claim.status == ReviewStatus.DRAFT

    reviewer_client.post(url, action("mark_verified", world.claim))  # a draft: not yet
    world.claim.refresh_from_db()
    assert world.claim.status == ReviewStatus.DRAFT
    contributor_client.post(url, action("submit", world.claim))
    reviewer_client.post(url, action("mark_verified", world.claim))

    world.claim.refresh_from_db()
    assert world.claim.status == ReviewStatus.VERIFIED
    assert ClaimVersion.objects.filter(record=world.claim, change_kind=ChangeKind.STATUS).exists()


def test_a_claim_saved_in_the_admin_records_who_made_it(
    world: World, contributor: User, contributor_client: Client
) -> None:
    data = {
        "conflict": world.ledger.conflict.pk,
        "claimant": "Lostarmour",
        "claimed_on": dt.date(2021, 7, 21).isoformat(),
        "claimed_on_precision": "day",
        "scope": "armoured vehicles",
        "kind": "at_least",
        "number": 77,
        "number_high": "",
        "source_url": "https://example.org/a",
        "evidence": "",
        "quote": "",
        "status": ReviewStatus.SUBMITTED,
        "scope_rule": "null",
        "change_reason": "",
    }

    response = contributor_client.post(admin_url(Claim, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    claim = Claim.objects.get(claimant="Lostarmour")
    assert claim.created_by == contributor
    version = ClaimVersion.objects.get(record=claim)
    assert (version.change_kind, version.changed_by) == (ChangeKind.CREATE, contributor)


def test_control_records_are_sent_back_to_their_author_with_a_comment(
    world: World, reviewer_client: Client
) -> None:
    from attrition.territory.models import ControlRecordVersion

    ControlRecord.objects.filter(pk=world.control.pk).update(review_status=ReviewStatus.SUBMITTED)
    reviewer_client.post(
        admin_url(ControlRecord, "changelist"),
        confirmed("needs_changes", world.control, reason="which source says so?"),
    )

    world.control.refresh_from_db()
    assert world.control.review_status == ReviewStatus.NEEDS_CHANGES
    versions = ControlRecordVersion._default_manager.filter(record=world.control)
    assert versions.count() == 2
    latest = versions.latest("version")
    assert (latest.since, latest.change_reason) == (world.control.since, "which source says so?")


@pytest.mark.parametrize(
    ("model_name", "field_name"), [("loss", "created_by"), ("adminunit", "parent")]
)
def test_a_contributor_cannot_autocomplete_beyond_the_forms_they_fill(
    world: World, contributor_client: Client, model_name: str, field_name: str
) -> None:
    app_label = "losses" if model_name == "loss" else "territory"
    query = {"app_label": app_label, "model_name": model_name, "field_name": field_name}

    response = contributor_client.get("/admin/autocomplete/", {**query, "term": "a"})

    assert response.status_code == 403
