"""Importing real Oryx pages into the ledger: what is written, idempotence, changes, atomicity."""

from __future__ import annotations

import time
from typing import Any

import pytest

from attrition.catalog.models import EquipmentModel, ModelAlias
from attrition.claims.models import Claim
from attrition.evidence.models import Evidence
from attrition.importers import bulk
from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, import_run
from attrition.importers.report import ImportReport
from attrition.losses.models import Depiction, Loss, LossVersion
from tests.importers.conftest import PAGES, needs_pages, page_bytes

pytestmark = [needs_pages, pytest.mark.usefixtures("reference")]

KINDS = [Loss, LossVersion, Depiction, Evidence, Claim, SourceRecord, EquipmentModel, ModelAlias]


def run(html: bytes, **options: Any) -> ImportReport:
    return import_run(
        kind="oryx_html", data=html, source_name="page.html", options=ImportOptions(**options)
    )


def row_counts() -> dict[str, int]:
    return {kind.__name__: kind._default_manager.count() for kind in KINDS}


def test_it_imports_the_naval_page() -> None:
    report = run(page_bytes("naval"))
    assert report.applied
    assert report.counts()["created"] == 39
    assert report.rejected == []
    assert Loss.objects.count() == 39
    assert set(Loss.objects.values_list("status", flat=True)) == {"submitted"}
    assert set(LossVersion._default_manager.values_list("changed_via", flat=True)) == {"import"}
    assert SourceRecord.objects.filter(source="oryx_html").count() == 39
    moskva = Loss.objects.get(model__name__contains="'Moskva'")
    assert moskva.side.slug == "russia"
    assert moskva.fate == "destroyed"
    assert moskva.fate_history[0]["detail"] == "sunk by Neptune AShM"
    assert moskva.model.category.slug == "naval-ships"
    assert moskva.model.country_of_production == "SU"
    assert ModelAlias.objects.filter(model=moskva.model).exists()
    depiction = Depiction.objects.get(loss=moskva)
    assert depiction.item_number == 1
    assert depiction.evidence.canonical_url.startswith("https://")


def test_it_keeps_the_stated_totals_as_claims_by_oryx() -> None:
    run(page_bytes("naval"))
    claims = Claim.objects.filter(claimant="Oryx")
    assert claims.count() == 12
    total = claims.get(scope__startswith="Russia: all losses")
    assert total.number == 12
    assert total.scope_rule == {"sides": ["russia"]}
    assert total.claimed_on.isoformat() == "2023-08-14"
    assert total.status == "verified"
    assert total.kind == "exact"
    assert total.source_url.endswith("list-of-naval-losses-during-2022.html")
    gunboats = claims.get(scope="Ukraine: Patrol and Gunboats")
    assert gunboats.number == 10
    assert gunboats.scope_rule == {"sides": ["ukraine"], "categories_in": ["naval-ships"]}


def test_it_sets_the_captor_of_captured_items() -> None:
    run(page_bytes("naval"))
    captured = Loss.objects.filter(fate="captured")
    assert captured.exists()
    assert all(loss.captured_by.slug == "russia" for loss in captured)


def test_it_changes_nothing_when_the_same_page_is_imported_again() -> None:
    run(page_bytes("naval"))
    before = row_counts()
    again = run(page_bytes("naval"))
    assert again.changes_nothing
    assert again.counts()["unchanged"] == 39
    assert again.claims_unchanged
    assert not again.claims_created
    assert row_counts() == before


def test_it_writes_nothing_in_a_dry_run() -> None:
    before = row_counts()
    report = run(page_bytes("naval"), dry_run=True)
    assert not report.applied
    assert report.counts()["created"] == 39
    assert report.counts()["models_created"] == 22
    assert row_counts() == before
    assert "dry run: nothing written" in report.text()


def changed(html: bytes) -> bytes:
    """Return the naval page with one item's history changed and one item added."""
    text = html.decode("utf-8")
    tug = "(1, destroyed by Bayraktar TB2 and Harpoon AShM)"
    assert text.count(tug) == 1, "the naval page changed shape"
    text = text.replace(tug, "(1, damaged and later destroyed by Bayraktar TB2 and Harpoon AShM)")
    yaroslavets = (
        'tugboat: <a href="https://twitter.com/UAWeapons/status/1648068113655648259">'
        "(1, destroyed)</a>"
    )
    assert text.count(yaroslavets) == 1, "the naval page changed shape"
    text = text.replace(
        yaroslavets, yaroslavets + ' <a href="https://t.me/new/1">(2, destroyed)</a>'
    )
    return text.encode("utf-8")


def test_it_updates_only_what_changed_and_keeps_the_history() -> None:
    run(page_bytes("naval"))
    report = run(changed(page_bytes("naval")))
    assert report.counts()["created"] == 1
    assert report.counts()["unchanged"] == 38
    assert len(report.updated) == 1
    assert "'damaged and later destroyed" in report.updated[0].what
    record = SourceRecord.objects.get(external_id=report.updated[0].external_id)
    loss = record.loss
    assert [e["fate"] for e in loss.fate_history] == ["damaged", "destroyed"]
    versions = list(LossVersion._default_manager.filter(record=loss).order_by("version"))
    assert [v.fate_history[0]["fate"] for v in versions] == ["destroyed", "damaged"]
    assert "Oryx page changed" in versions[-1].change_reason
    assert Loss.objects.count() == 40


def test_it_writes_all_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    before = row_counts()
    calls = {"n": 0}
    real = bulk.versions_create

    def failing(*args: Any, **kwargs: Any) -> Any:
        # Evidence, then losses, then depictions are versioned: fail once losses are written.
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "versions_create", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run(page_bytes("naval"))
    assert calls["n"] == 3
    assert row_counts() == before


def test_it_imports_as_verified_when_asked() -> None:
    run(page_bytes("naval"), status="verified")
    assert set(Loss.objects.values_list("status", flat=True)) == {"verified"}


def test_it_rejects_a_section_that_names_no_side_and_says_why() -> None:
    report = run(page_bytes("aircraft"), dry_run=True)
    assert len(report.rejected) == 3
    assert all("'Unknown' names no side" in r.reason for r in report.rejected)


@pytest.mark.slow
def test_it_imports_all_four_pages_and_again_changes_nothing() -> None:
    timings = {}
    for name in PAGES:
        started = time.perf_counter()
        report = run(page_bytes(name))
        timings[name] = time.perf_counter() - started
        assert all(check.explained for check in report.checks), report.text()
        assert len(report.rejected) == (3 if name == "aircraft" else 0), report.text()
    assert Loss.objects.count() == 10107 + 3200 + 746 + 39
    before = row_counts()
    for name in PAGES:
        assert run(page_bytes(name)).changes_nothing
    assert row_counts() == before
