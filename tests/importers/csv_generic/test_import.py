"""Importing any CSV through a mapping: synonyms, validation row by row, refusals, re-imports."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.catalog.models import EquipmentModel
from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportRefused
from attrition.losses.models import Loss
from tests.importers.csv_generic.conftest import HEADER, csv_import
from tests.ledger import Ledger

GOOD = (
    HEADER
    + "1,Afghan army,T-62 (test),tank,уничтожен,,15.08.2021,34.5,69.1,\"=cmd|' /C calc'!A0\","
    + '"kabul, night",burnt out,https://t.me/chan/1 https://t.me/chan/2\n'
    + "2,Afghan army,T-55 (test),tank,захвачен and later destroyed (burnt),Талибан,08.2021,"
    + ",,,,,https://t.me/chan/2;https://t.me/chan/3\n"
)


def test_it_imports_rows_through_the_mapping_with_its_synonyms(ledger: Ledger) -> None:
    report = csv_import(GOOD)
    assert report.counts()["created"] == 2
    assert not report.rejected
    first, second = Loss.objects.order_by("id")
    assert (first.side, first.model, first.fate) == (ledger.afghan, ledger.t62, "destroyed")
    assert (first.first_seen, first.first_seen_precision) == (dt.date(2021, 8, 15), "day")
    assert (first.lat, first.lon, first.description) == (34.5, 69.1, "burnt out")
    assert sorted(t.name for t in first.tags.all()) == ["kabul", "night"]
    assert [d.evidence.url for d in first.depictions.all()] == [
        "https://t.me/chan/1",
        "https://t.me/chan/2",
    ]
    assert [(f["fate"], f["detail"]) for f in second.fate_history] == [
        ("captured", ""),
        ("destroyed", "burnt"),
    ]
    assert second.captured_by == ledger.taliban
    assert (second.first_seen, second.first_seen_precision) == (dt.date(2021, 8, 1), "month")
    assert second.status == "submitted"
    assert SourceRecord.objects.filter(source="csv").count() == 2
    assert SourceRecord.objects.get(external_id="tracker:1").raw["cells"]["Notes"] == "burnt out"


def test_it_keeps_spreadsheet_formulas_as_plain_text(ledger: Ledger) -> None:
    csv_import(GOOD)
    assert Loss.objects.order_by("id")[0].markings == "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "markings"),
    [("'=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"), ("'-77", "-77"), ("'Sandy", "'Sandy")],
)
def test_it_takes_off_the_apostrophe_that_keeps_a_formula_as_text(
    ledger: Ledger, cell: str, markings: str
) -> None:
    """A spreadsheet, or our own export, writes '=x for the text =x; an apostrophe before any
    other text is part of it."""
    csv_import(GOOD.replace("=cmd|' /C calc'!A0", cell, 1))
    assert Loss.objects.order_by("id")[0].markings == markings


def test_it_writes_nothing_on_a_dry_run(ledger: Ledger) -> None:
    report = csv_import(GOOD, dry_run=True)
    assert report.counts()["created"] == 2
    assert not report.applied
    assert not Loss.objects.exists()
    assert not SourceRecord.objects.exists()


def test_it_rejects_bad_rows_by_number_and_column_and_imports_the_good_ones(
    ledger: Ledger,
) -> None:
    text = (
        GOOD
        + "3,Nobody,T-62 (test),tank,destroyed,,32.13.2021,,,,,,\n"
        + "4,Afghan army,T-62 (test),tank,melted,,,,,,,,\n"
        + "5,Afghan army,T-62 (test),tank,destroyed,,,91,10,,,,\n"
        + "6,Afghan army,T-62 (test),tank,destroyed,,,,,,,,not a url\n"
        + "7,Afghan army,T-62 (test)\n"
        + "1,Afghan army,T-62 (test),tank,destroyed,,,,,,,,\n"
    )
    report = csv_import(text)
    assert report.counts()["created"] == 2
    reasons = {r.what: r.reason for r in report.rejected}
    assert set(reasons) == {"row 4", "row 5", "row 6", "row 7", "row 8", "row 9"}
    assert "column 'Lost by' = 'Nobody': not a side of test-war" in reasons["row 4"]
    assert "column 'Date' = '32.13.2021': not a date" in reasons["row 4"]
    assert "column 'Status' = 'melted'" in reasons["row 5"]
    assert "column 'Lat' = '91'" in reasons["row 6"]
    assert "column 'Links' = 'not a url'" in reasons["row 7"]
    assert "has 3 cells where the header has 13 columns" in reasons["row 8"]
    assert "the same id 'tracker:1' as row 2" in reasons["row 9"]
    assert "row 4" in report.text()
    assert Loss.objects.count() == 2


def test_it_refuses_a_file_without_a_mapped_column(ledger: Ledger) -> None:
    with pytest.raises(ImportRefused, match=r"no column\(s\) 'Status' that.*its columns are"):
        csv_import("ID,Lost by,Model,Type\n1,Afghan army,T-62 (test),tank\n")
    assert not Loss.objects.exists()


def test_it_refuses_a_file_without_any_valid_row(ledger: Ledger) -> None:
    with pytest.raises(ImportRefused, match=r"no row that can be imported.*row 2"):
        csv_import(HEADER + "1,Nobody,T-62 (test),tank,destroyed,,,,,,,,\n")
    with pytest.raises(ImportRefused, match="no row that can be imported"):
        csv_import(HEADER)
    assert not Loss.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("attrition.importers.registry.MAX_INPUT_BYTES", 100)
    with pytest.raises(ImportRefused, match="larger than the limit"):
        csv_import(GOOD)


def test_it_refuses_without_a_conflict_or_a_mapping(ledger: Ledger) -> None:
    with pytest.raises(ImportRefused, match="give --conflict"):
        csv_import(GOOD, conflict=None)
    with pytest.raises(ImportRefused, match="no conflict 'nowhere'"):
        csv_import(GOOD, conflict="nowhere")


def test_it_creates_unknown_models_in_the_mapped_category(ledger: Ledger) -> None:
    text = (
        HEADER
        + "1,Afghan army,T-72B3,tank,destroyed,,,,,,,,\n2,Afghan army,,tank,destroyed,,,,,,,,\n"
    )
    report = csv_import(text)
    assert report.models_created == ["T-72B3 (Test tanks)", "Unidentified test tanks (Test tanks)"]
    assert EquipmentModel.objects.get(name="T-72B3").category == ledger.tanks
    assert Loss.objects.count() == 2


def test_it_changes_nothing_when_the_same_file_is_imported_again(ledger: Ledger) -> None:
    csv_import(GOOD)
    again = csv_import(GOOD)
    assert again.changes_nothing
    assert again.counts()["unchanged"] == 2
    assert Loss.objects.count() == 2


def test_it_updates_only_the_fields_whose_cells_changed(ledger: Ledger) -> None:
    csv_import(GOOD)
    loss = Loss.objects.order_by("id")[0]
    # An edit made here to a field the file does not change is kept.
    from attrition.losses.services import loss_update

    loss_update(loss=loss, unit="3rd Brigade", reason="seen on a second photo")
    changed = GOOD.replace("уничтожен,,15.08.2021", "захвачен,Талибан,15.08.2021").replace(
        "https://t.me/chan/1 ", "https://t.me/chan/1 https://t.me/chan/9 "
    )
    report = csv_import(changed)
    assert [(c.external_id, c.what) for c in report.updated] == [
        ("tracker:1", "row 2: captured_by, evidence_urls, fates changed")
    ]
    loss.refresh_from_db()
    assert (loss.fate, loss.captured_by, loss.unit) == ("captured", ledger.taliban, "3rd Brigade")
    assert loss.depictions.count() == 3
