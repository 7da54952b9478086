"""The loss form writes through the services: fates as text, optimistic locking, no half saves."""

from __future__ import annotations

import pytest
from django.test import Client

from attrition.accounts.models import User
from attrition.catalog.models import Conflict, Side
from attrition.history import ChangeKind
from attrition.losses.admin import fates_from_text, fates_to_text
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_update
from tests.admin_site.conftest import World, admin_url, loss_form
from tests.ledger import Ledger


def test_fate_text_reads_fates_with_details_and_dates() -> None:
    assert fates_from_text("captured, destroyed (airstrike)") == [
        {"fate": "captured"},
        {"fate": "destroyed", "detail": "airstrike"},
    ]
    assert fates_from_text(" Abandoned on 2021-08-15 , damaged (hit, burnt) ") == [
        {"fate": "abandoned", "date": "2021-08-15"},
        {"fate": "damaged", "detail": "hit, burnt"},
    ]


def test_fate_text_round_trips_a_stored_history() -> None:
    stored = [
        {"fate": "captured", "detail": "", "date": None},
        {"fate": "destroyed", "detail": "sunk", "date": "2021-08-20"},
    ]
    assert fates_to_text(stored) == "captured, destroyed (sunk) on 2021-08-20"
    assert fates_from_text(fates_to_text(stored)) == [
        {"fate": "captured"},
        {"fate": "destroyed", "detail": "sunk", "date": "2021-08-20"},
    ]


def test_it_creates_a_loss_through_the_service(
    ledger: Ledger, admin_user: User, admin_client: Client
) -> None:
    data = loss_form(
        ledger, fates_text="captured, destroyed (airstrike)", tags_text="convoy, Kunduz, convoy"
    )
    response = admin_client.post(admin_url(Loss, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    loss = Loss.objects.get()
    assert loss.fate == "destroyed"
    assert [(e["fate"], e["detail"]) for e in loss.fate_history] == [
        ("captured", ""),
        ("destroyed", "airstrike"),
    ]
    assert sorted(t.name for t in loss.tags.all()) == ["Kunduz", "convoy"]
    assert (loss.created_by, loss.updated_by) == (admin_user, admin_user)
    version = LossVersion.objects.get(record=loss)
    assert (version.changed_by, version.changed_via, version.change_kind) == (
        admin_user,
        "admin",
        ChangeKind.CREATE,
    )


@pytest.mark.parametrize("fates", ["exploded", "destroyed (airstrike", "", "captured,, sunk"])
def test_an_invalid_fate_is_a_form_error_and_saves_nothing(
    ledger: Ledger, admin_client: Client, fates: str
) -> None:
    response = admin_client.post(admin_url(Loss, "add"), loss_form(ledger, fates_text=fates))

    assert response.status_code == 200
    assert "fates_text" in response.context["adminform"].form.errors
    assert Loss.objects.count() == 0
    assert LossVersion.objects.count() == 0


def test_an_unknown_model_is_a_form_error_and_saves_nothing(
    ledger: Ledger, admin_client: Client
) -> None:
    response = admin_client.post(admin_url(Loss, "add"), loss_form(ledger, model=999_999))

    assert response.status_code == 200
    assert "model" in response.context["adminform"].form.errors
    assert Loss.objects.count() == 0
    assert LossVersion.objects.count() == 0


def test_a_rule_the_service_enforces_is_a_form_error_and_saves_nothing(
    ledger: Ledger, admin_client: Client
) -> None:
    other = Conflict.objects.create(slug="other", name="Other war")
    stranger = Side.objects.create(conflict=other, slug="x", name="X", short_name="X")

    response = admin_client.post(admin_url(Loss, "add"), loss_form(ledger, side=stranger.pk))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "not a side of this conflict" in " ".join(errors)
    assert Loss.objects.count() == 0
    assert LossVersion.objects.count() == 0


def test_the_form_shows_fates_as_text_and_the_revision_hidden(
    world: World, admin_client: Client
) -> None:
    loss_update(loss=world.loss, fates=["captured", {"fate": "destroyed", "detail": "airstrike"}])
    world.loss.refresh_from_db()

    html = admin_client.get(admin_url(Loss, "change", world.loss.pk)).content.decode()

    assert 'value="captured, destroyed (airstrike)"' in html
    assert f'type="hidden" name="revision" value="{world.loss.revision}"' in html


def test_a_change_records_a_version_by_the_admin_via_the_admin(
    world: World, admin_user: User, admin_client: Client
) -> None:
    data = loss_form(world.ledger, world.loss, markings="212", change_reason="2nd video")

    response = admin_client.post(admin_url(Loss, "change", world.loss.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    world.loss.refresh_from_db()
    assert (world.loss.markings, world.loss.updated_by) == ("212", admin_user)
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None
    assert (latest.changed_by, latest.changed_via, latest.change_kind, latest.change_reason) == (
        admin_user,
        "admin",
        ChangeKind.UPDATE,
        "2nd video",
    )


def test_a_stale_revision_is_refused_and_the_row_is_unchanged(
    world: World, reviewer: User, admin_client: Client
) -> None:
    opened = loss_form(world.ledger, world.loss, markings="from the admin")
    loss_update(loss=world.loss, markings="from bob", by=reviewer)
    versions = LossVersion.objects.count()

    response = admin_client.post(admin_url(Loss, "change", world.loss.pk), opened)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "was changed by bob since you opened it" in errors
    world.loss.refresh_from_db()
    assert world.loss.markings == "from bob"
    assert LossVersion.objects.count() == versions


def test_a_status_change_on_the_form_goes_through_the_workflow(
    world: World, contributor_client: Client
) -> None:
    data = loss_form(world.ledger, world.loss, status=ReviewStatus.DRAFT)

    response = contributor_client.post(admin_url(Loss, "change", world.loss.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.DRAFT
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None
    assert latest.change_kind == ChangeKind.STATUS


@pytest.mark.parametrize("client_name", ["contributor_client", "admin_client"])
@pytest.mark.parametrize(
    "status", [ReviewStatus.VERIFIED, ReviewStatus.REJECTED, ReviewStatus.NEEDS_CHANGES]
)
def test_nobody_verifies_or_rejects_on_the_form(
    world: World, request: pytest.FixtureRequest, client_name: str, status: str
) -> None:
    client = request.getfixturevalue(client_name)
    data = loss_form(world.ledger, world.loss, status=status)

    response = client.post(admin_url(Loss, "change", world.loss.pk), data)

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    world.loss.refresh_from_db()
    assert world.loss.status == ReviewStatus.SUBMITTED
