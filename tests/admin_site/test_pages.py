"""Every admin page answers, list pages make a constant number of queries, history is shown."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from attrition.accounts.models import User
from attrition.catalog.models import EquipmentModel
from attrition.dedup.models import LossCandidate, MediaMatch
from attrition.evidence.models import Capture, CustodyRecord, Evidence, FrameHash, LivenessCheck
from attrition.history import versions_of
from attrition.importers.models import SourceRecord
from attrition.losses.models import Depiction, Loss, LossVersion
from attrition.losses.services import depiction_create, loss_update
from attrition.territory.models import AdminUnit
from tests.admin_site.conftest import World, admin_url

# What the pipeline and importers write, and the history: nobody adds these in the admin.
READ_ONLY = {
    Capture,
    CustodyRecord,
    FrameHash,
    LivenessCheck,
    SourceRecord,
    MediaMatch,
    LossCandidate,
}


def test_every_admin_page_answers_for_the_admin(world: World, admin_client: Client) -> None:
    other = world.ledger.loss(markings="211")
    LossCandidate.objects.create(loss_a=world.loss, loss_b=other, score=0.9, verdict="likely same")
    rows = world.rows()
    version_models = {versions_of(m) for m in (Loss, Evidence, Depiction, EquipmentModel)}
    assert set(admin.site._registry) - set(rows) == set()
    for model in admin.site._registry:
        read_only = model in READ_ONLY or model.__name__.endswith("Version")
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200, model
        assert admin_client.get(admin_url(model, "add")).status_code == (
            403 if read_only else 200
        ), model
        if model in rows:
            response = admin_client.get(admin_url(model, "change", rows[model].pk))
            assert response.status_code == 200, model
    assert version_models <= set(admin.site._registry)


def _more_losses(world: World, n: int) -> None:
    for i in range(n):
        loss = world.ledger.loss(markings=str(i), admin_unit=world.district, tags=["t"])
        loss_update(loss=loss, unit=f"unit {i}")
        evidence = world.ledger.evidence(100 + i)
        depiction_create(loss=loss, evidence=evidence)
        AdminUnit.objects.create(
            boundary_set=world.district.boundary_set,
            level=2,
            code=f"X{i}",
            name=f"District {i}",
            parent=world.district.parent,
            geometry=world.district.geometry,
        )


@pytest.mark.parametrize("model", [Loss, LossVersion, Depiction, Evidence, AdminUnit])
def test_list_pages_make_as_many_queries_for_20_rows_as_for_1(
    world: World,
    admin_client: Client,
    django_assert_max_num_queries: object,
    model: type,
) -> None:
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    _more_losses(world, 19)
    with django_assert_max_num_queries(len(one)):  # type: ignore[operator]
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 20


def test_admin_units_show_a_summary_of_their_outline_not_the_outline(
    world: World, admin_client: Client
) -> None:
    response = admin_client.get(admin_url(AdminUnit, "change", world.district.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Polygon, 5 points" in html
    assert 'name="geometry"' not in html
    assert "[[70" not in html


def test_a_loss_page_shows_its_history_with_who_why_and_the_field_diff(
    world: World, admin_user: User, admin_client: Client
) -> None:
    loss_update(loss=world.loss, markings="212", by=admin_user, reason="second video", via="test")

    html = admin_client.get(admin_url(Loss, "change", world.loss.pk)).content.decode()

    assert "second video" in html
    assert "<b>markings</b>: 211 → 212" in html
    assert "alice" in html


def test_a_version_page_shows_the_diff_from_the_previous_version(
    world: World, admin_user: User, admin_client: Client
) -> None:
    loss_update(loss=world.loss, model=world.ledger.t55, by=admin_user, via="test")
    latest = LossVersion.objects.filter(record=world.loss).order_by("-version").first()
    assert latest is not None

    html = admin_client.get(admin_url(LossVersion, "change", latest.pk)).content.decode()

    assert "T-62 (test)" in html
    assert "T-55 (test)" in html
    assert "→" in html


def test_the_admin_carries_the_instance_name(admin_client: Client) -> None:
    html = admin_client.get("/admin/").content.decode()
    assert "attrition: editors" in html
