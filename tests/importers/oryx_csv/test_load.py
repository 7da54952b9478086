"""Importing slices of the real oryx_data set: items, dates, claims, checks, idempotence."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from attrition.catalog.models import Category, EquipmentModel
from attrition.claims.models import Claim
from attrition.evidence.models import Evidence
from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, import_run, source_read
from attrition.importers.report import ImportReport
from attrition.losses.models import Depiction, Loss, LossVersion
from tests.importers.oryx_csv.conftest import model_add, needs_data, write_slice

pytestmark = [needs_data, pytest.mark.usefixtures("reference")]

KINDS = [Loss, LossVersion, Depiction, Evidence, Claim, SourceRecord]
PATTERN = re.compile(r",(\d+ )?(T-90AK|T-80U),")


@pytest.fixture
def models(reference: None) -> None:
    model_add("T-90AK", "tanks")
    model_add("T-80U", "tanks")


@pytest.fixture
def oryx_set(tmp_path: Path, models: None) -> Path:
    return write_slice(tmp_path / "oryx_data", lambda row: bool(PATTERN.search(row)))


def run(path: Path, **options: Any) -> ImportReport:
    return import_run(
        kind="oryx_csv",
        data=source_read(path, directory=True),
        source_name=path.name,
        options=ImportOptions(**options),
    )


def row_counts() -> dict[str, int]:
    return {kind.__name__: kind._default_manager.count() for kind in KINDS}


def test_it_imports_items_with_their_states_dates_and_evidence(oryx_set: Path) -> None:
    report = run(oryx_set)
    assert report.applied
    assert all("misspelling" in r.reason for r in report.rejected)
    record = SourceRecord.objects.get(external_id__contains="1450-T-90-AK-capt-destr")
    loss = record.loss
    assert [e["fate"] for e in loss.fate_history] == ["captured", "destroyed"]
    assert loss.fate == "destroyed"
    assert loss.captured_by.slug == "ukraine"
    assert loss.first_seen == dt.date(2025, 3, 11)
    assert record.raw["dates"] == {
        "stated": None,
        "file_name": "2025-03-11",
        "first_seen": "2025-03-20",
        "used": "file_name",
    }
    assert record.raw_label == "captured and later destroyed"
    assert Depiction.objects.get(loss=loss).evidence.canonical_url.startswith("https://i.postimg")
    versions = LossVersion._default_manager.filter(record=loss)
    assert [(v.change_kind, v.changed_via) for v in versions] == [("create", "import")]
    assert Loss.objects.count() == SourceRecord.objects.count() == report.counts()["created"]


def test_it_keeps_the_stated_totals_as_claims_and_compares_them(oryx_set: Path) -> None:
    report = run(oryx_set)
    tanks = Claim.objects.get(claimant="Oryx", scope="Russia: Tanks")
    assert tanks.number == 4074
    assert tanks.claimed_on == dt.date(2025, 7, 19)
    assert tanks.scope_rule == {"sides": ["russia"], "categories_in": ["tanks"]}
    check = next(c for c in report.checks if c.scope.startswith("Russia / Tanks"))
    assert check.stated == 4074
    assert (
        check.parsed
        == Loss.objects.filter(side__slug="russia", model__category__slug="tanks").count()
    )
    assert check.stated_by_fate["destroyed"] == 2991
    assert "Russia / Tanks: stated 4074" in report.text()
    assert "re-hosted copies?" in report.text()


def test_it_changes_nothing_when_the_same_set_is_imported_again(oryx_set: Path) -> None:
    run(oryx_set)
    before = row_counts()
    again = run(oryx_set)
    assert again.changes_nothing
    assert again.counts()["unchanged"] == before["Loss"]
    assert row_counts() == before


def test_it_writes_nothing_in_a_dry_run(oryx_set: Path) -> None:
    before = row_counts()
    report = run(oryx_set, dry_run=True)
    assert report.counts()["created"] > 0
    assert row_counts() == before


def test_it_updates_only_the_item_whose_row_changed(oryx_set: Path) -> None:
    run(oryx_set)
    damaged = oryx_set / "event_damaged.csv"
    destroyed = (oryx_set / "event_destroyed.csv").read_text().splitlines()
    row = next(r for r in destroyed if "T-80U" in r and "twitter.com" in r)
    damaged.write_text(damaged.read_text() + row.replace(",destroyed,", ",damaged,") + "\n")
    report = run(oryx_set)
    assert report.counts()["created"] == 0
    assert len(report.updated) == 1
    assert "'damaged and later destroyed'" in report.updated[0].what
    loss = SourceRecord.objects.get(external_id=report.updated[0].external_id).loss
    assert [e["fate"] for e in loss.fate_history] == ["damaged", "destroyed"]
    assert LossVersion._default_manager.filter(record=loss).count() == 2


def test_it_files_models_the_catalog_does_not_know_under_unclassified(
    tmp_path: Path, reference: None
) -> None:
    path = write_slice(
        tmp_path / "set", lambda row: bool(re.search(r",(\d+ )?T-90AK,", row)), totals=False
    )
    dry = run(path, dry_run=True)
    assert dry.models_created == ["T-90AK (Unclassified)"]
    assert not Category.objects.filter(slug="unclassified").exists()
    report = run(path)
    assert report.rejected == []
    assert report.counts()["created"] == 2
    model = EquipmentModel.objects.get(name="T-90AK")
    assert model.category.slug == "unclassified"
    assert Category.objects.filter(name="Unclassified").count() == 1
    assert {loss.model for loss in Loss.objects.all()} == {model}
    assert any(n.startswith("check: 1 model(s) new to the catalog") for n in report.notes)
    assert run(path).changes_nothing
