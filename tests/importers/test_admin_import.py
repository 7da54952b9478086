"""Imports from the admin: upload -> dry run -> confirm -> job -> report; admins only; CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from attrition.accounts.models import User
from attrition.importers.models import ImportRun
from attrition.losses.models import Loss
from tests.importers.csv_generic.conftest import HEADER, MAPPING
from tests.ledger import Ledger

GOOD = HEADER + "1,Afghan army,T-62 (test),tank,уничтожен,,15.08.2021,,,,,,https://t.me/c/1\n"
BAD_ROW = "2,Nobody,T-62 (test),tank,destroyed,,,,,,,,\n"
NEW = reverse("admin:importers_importrun_add")


@pytest.fixture
def jobs_now() -> Iterator[None]:
    """Run jobs where they are enqueued, as a worker would."""
    from huey.contrib.djhuey import HUEY

    was, HUEY.immediate = HUEY.immediate, True
    try:
        yield
    finally:
        HUEY.immediate = was


@pytest.fixture
def mapping(db: None) -> str:
    """Save the tracker's mapping under a name, as `attrition import-mapping save` does."""
    from attrition.importers.csv_generic.mapping import mapping_parse, mapping_save

    mapping_save(name="tracker", spec=mapping_parse(MAPPING, name="tracker"))
    return "tracker"


def upload(client: Client, text: str, **fields: Any) -> Any:
    form = {
        "kind": "csv",
        "conflict": "test-war",
        "status": "submitted",
        "mapping": "tracker",
        "side": "",
        "file": SimpleUploadedFile("losses.csv", text.encode(), content_type="text/csv"),
        **fields,
    }
    return client.post(NEW, form)


def test_it_uploads_shows_the_dry_run_and_applies_it_as_a_job_once_confirmed(
    ledger: Ledger,
    mapping: str,
    admin_client: Client,
    admin_user: User,
    capture_storage: Path,
    jobs_now: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    response = upload(admin_client, GOOD + BAD_ROW)
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:importers_importrun_change", args=[run.pk])
    assert run.state == "planned"
    assert run.dry_run_report["counts"]["created"] == 1
    assert run.dry_run_report["rejected"][0]["what"] == "row 3"
    assert len(run.sha256) == 64
    stored = str(run.upload.name)
    assert stored.startswith("imports/")
    assert (capture_storage / stored).read_bytes() == (GOOD + BAD_ROW).encode()
    assert not Loss.objects.exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "row 3" in page
    assert "not a side of test-war" in page
    assert "Confirm: apply this import" in page

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = admin_client.post(reverse("admin:importers_importrun_confirm", args=[run.pk]))
    assert confirmed.status_code == 302
    run.refresh_from_db()
    assert run.state == "done", run.error
    assert run.report["counts"]["created"] == 1
    assert run.report["applied"] is True
    loss = Loss.objects.get()
    assert loss.fate == "destroyed"
    assert loss.created_by == admin_user
    listing = admin_client.get(reverse("admin:importers_importrun_changelist"))
    assert "1 created" in listing.content.decode()


def test_it_keeps_a_failed_run_with_its_error_and_retries_it(
    ledger: Ledger,
    mapping: str,
    admin_client: Client,
    capture_storage: Path,
) -> None:
    upload(admin_client, HEADER + BAD_ROW)
    failed = ImportRun.objects.get()
    assert failed.state == "failed"
    assert "no row that can be imported" in failed.error
    page = admin_client.get(reverse("admin:importers_importrun_change", args=[failed.pk]))
    assert "no row that can be imported" in page.content.decode()
    # The side is added to the conflict; the same upload now plans.
    ledger.afghan.name = "Nobody"
    ledger.afghan.save()
    response = admin_client.post(reverse("admin:importers_importrun_retry", args=[failed.pk]))
    retried = ImportRun.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("admin:importers_importrun_change", args=[retried.pk])
    assert (retried.state, retried.options["retry_of"]) == ("planned", failed.pk)
    assert retried.upload.name == failed.upload.name
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_it_cancels_a_planned_run_and_never_applies_it(
    ledger: Ledger, mapping: str, admin_client: Client, capture_storage: Path
) -> None:
    upload(admin_client, GOOD)
    run = ImportRun.objects.get()
    admin_client.post(reverse("admin:importers_importrun_cancel", args=[run.pk]))
    admin_client.post(reverse("admin:importers_importrun_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.state == "cancelled"
    assert not Loss.objects.exists()


def test_it_refuses_an_upload_over_the_limit(
    ledger: Ledger,
    mapping: str,
    admin_client: Client,
    capture_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("attrition.importers.registry.MAX_INPUT_BYTES", 50)
    response = upload(admin_client, GOOD * 20)
    assert response.status_code == 200
    assert "larger than the limit" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert not capture_storage.exists() or not any(capture_storage.rglob("*.csv"))


def test_it_asks_for_a_mapping_for_a_csv_import(
    ledger: Ledger, admin_client: Client, capture_storage: Path
) -> None:
    response = upload(admin_client, GOOD, mapping="")
    assert "A csv import needs a column mapping." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_it_offers_every_registered_importer(admin_client: Client) -> None:
    from attrition.importers.registry import importer_names

    page = admin_client.get(NEW).content.decode()
    for name in importer_names():
        assert f'value="{name}"' in page


@pytest.mark.parametrize("who", ["reviewer_client", "contributor_client"])
def test_it_refuses_the_import_pages_to_everyone_but_admins(
    who: str, ledger: Ledger, mapping: str, request: pytest.FixtureRequest, capture_storage: Path
) -> None:
    client: Client = request.getfixturevalue(who)
    run = ImportRun.objects.create(kind="csv", source_name="x.csv", state="planned")
    for url in (
        NEW,
        reverse("admin:importers_importrun_changelist"),
        reverse("admin:importers_importrun_change", args=[run.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert upload(client, GOOD).status_code == 403
    for action in ("confirm", "retry", "cancel"):
        url = reverse(f"admin:importers_importrun_{action}", args=[run.pk])
        assert client.post(url).status_code == 403, url
    run.refresh_from_db()
    assert run.state == "planned"
    assert ImportRun.objects.count() == 1


def test_it_sends_anonymous_visitors_to_log_in(anon_client: Client) -> None:
    response = anon_client.get(NEW)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_refuses_posts_without_the_csrf_token(
    ledger: Ledger, mapping: str, admin_user: User, capture_storage: Path
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert upload(client, GOOD).status_code == 403
    assert not ImportRun.objects.exists()
    run = ImportRun.objects.create(kind="csv", source_name="x.csv", state="planned")
    assert (
        client.post(reverse("admin:importers_importrun_confirm", args=[run.pk])).status_code == 403
    )
    run.refresh_from_db()
    assert run.state == "planned"
    # With the token from the form, the same upload goes through.
    page = client.get(NEW)
    token = page.cookies["csrftoken"].value
    response = upload(client, GOOD, csrfmiddlewaretoken=token)
    assert response.status_code == 302
    assert ImportRun.objects.filter(kind="csv", state="planned").count() == 2
