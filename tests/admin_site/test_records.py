"""Evidence, depictions and equipment models saved in the admin: through services, with versions."""

from __future__ import annotations

from django.test import Client

from attrition.accounts.models import User
from attrition.catalog.models import EquipmentModel, EquipmentModelVersion, ModelAlias
from attrition.evidence.models import Capture, Evidence, EvidenceVersion
from attrition.history import ChangeKind
from attrition.losses.models import Depiction, DepictionVersion
from tests.admin_site.conftest import World, admin_url


def _evidence_form(url: str) -> dict[str, str]:
    return {
        "url": url,
        "platform": "",
        "channel": "",
        "title": "",
        "description": "",
        "posted_at_0": "",
        "posted_at_1": "",
    }


def test_evidence_is_added_through_the_service(
    world: World, contributor: User, contributor_client: Client
) -> None:
    response = contributor_client.post(
        admin_url(Evidence, "add"), _evidence_form("https://X.com/user/status/1#frag")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    evidence = Evidence.objects.get(canonical_url="https://x.com/user/status/1")
    assert (evidence.platform, evidence.added_by) == ("x", contributor)
    version = EvidenceVersion.objects.get(record=evidence)
    assert (version.change_kind, version.changed_by, version.changed_via) == (
        ChangeKind.CREATE,
        contributor,
        "admin",
    )


def test_evidence_for_a_known_or_bad_url_is_refused(world: World, admin_client: Client) -> None:
    before = Evidence.objects.count()
    for url, error in [
        ("https://t.me/test_channel/1", "already evidence"),
        ("ftp://example.org/x", "not an http(s) URL"),
    ]:
        response = admin_client.post(admin_url(Evidence, "add"), _evidence_form(url))

        assert response.status_code == 200
        assert error in " ".join(response.context["adminform"].form.errors["url"])
    assert Evidence.objects.count() == before


def _depiction_form(world: World, capture: Capture) -> dict[str, object]:
    return {
        "loss": world.loss.pk,
        "evidence": world.evidence.pk,
        "capture": capture.pk,
        "item_number": 2,
        "t_start_ms": "",
        "t_end_ms": "",
        "region": "null",
        "note": "second vehicle",
        "change_reason": "",
    }


def test_a_depiction_is_added_through_the_service(
    world: World, contributor: User, contributor_client: Client
) -> None:
    response = contributor_client.post(
        admin_url(Depiction, "add"), _depiction_form(world, world.capture)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    depiction = Depiction.objects.get(note="second vehicle")
    version = DepictionVersion.objects.get(record=depiction)
    assert (version.change_kind, version.changed_by) == (ChangeKind.CREATE, contributor)


def test_a_depiction_of_a_capture_from_other_evidence_is_refused(
    world: World, admin_client: Client
) -> None:
    stranger = Capture.objects.create(
        sha256="d" * 64, kind="image", storage_key="d/dd", mime="image/png", size_bytes=1
    )
    before = (Depiction.objects.count(), DepictionVersion.objects.count())

    response = admin_client.post(admin_url(Depiction, "add"), _depiction_form(world, stranger))

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "was not collected for this evidence" in errors
    assert (Depiction.objects.count(), DepictionVersion.objects.count()) == before


def test_an_equipment_model_edit_records_a_version(
    world: World, admin_user: User, admin_client: Client
) -> None:
    t62 = world.ledger.t62
    alias = ModelAlias.objects.get(model=t62)
    data = {
        "slug": t62.slug,
        "name": "T-62M (test)",
        "category": t62.category_id,
        "country_of_production": "SU",
        "description": "",
        "change_reason": "the M variant",
        "aliases-TOTAL_FORMS": 1,
        "aliases-INITIAL_FORMS": 1,
        "aliases-0-id": alias.pk,
        "aliases-0-model": t62.pk,
        "aliases-0-alias": alias.alias,
    }

    response = admin_client.post(admin_url(EquipmentModel, "change", t62.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = EquipmentModelVersion.objects.filter(record=t62).order_by("-version").first()
    assert latest is not None
    assert (latest.name, latest.changed_by, latest.change_reason) == (
        "T-62M (test)",
        admin_user,
        "the M variant",
    )


def test_an_alias_can_name_only_one_model(world: World, admin_client: Client) -> None:
    response = admin_client.post(
        admin_url(ModelAlias, "add"), {"model": world.ledger.t55.pk, "alias": "t 62"}
    )

    assert response.status_code == 200
    assert "already names T-62 (test)" in " ".join(
        response.context["adminform"].form.errors["alias"]
    )
    assert ModelAlias.objects.count() == 1
