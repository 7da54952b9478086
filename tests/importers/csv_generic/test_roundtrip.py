"""Our own CSV export, imported into an empty instance through the built-in mapping, and back."""

from __future__ import annotations

import csv
import datetime as dt
import io

from attrition.catalog.models import EquipmentModel
from attrition.evidence.models import Evidence
from attrition.history import versions_of
from attrition.importers.csv_generic.mapping import ATTRITION_MAPPING, ATTRITION_UNREAD
from attrition.importers.registry import ImportOptions, import_run
from attrition.losses.exports import CSV_COLUMNS, export_losses
from attrition.losses.models import Depiction, Loss
from tests.ledger import Ledger

# What the round trip cannot keep: the ids are this instance's own.
DIFFERS = {"id"}


def _export() -> str:
    out = io.StringIO()
    export_losses(fmt="csv", out=out)
    return out.getvalue()


def _rows(text: str) -> list[dict[str, str]]:
    """Return the exported rows without the columns that must differ."""
    rows = csv.DictReader(io.StringIO(text))
    return [{k: v for k, v in row.items() if k not in DIFFERS} for row in rows]


def _ledger_emptied() -> None:
    """Remove every loss and piece of evidence, as in an instance that only has the catalog."""
    for model in (Depiction, Loss, Evidence):
        versions_of(model)._default_manager.all().delete()
        model.objects.all().delete()


def _fill(ledger: Ledger) -> None:
    one, two, three = ledger.evidence(1), ledger.evidence(2), ledger.evidence(3)
    # Listed "2 3", then "1 2": evidence 1 is first seen after 3, yet must be created before 2.
    ledger.loss(
        ledger.t62,
        fates=["captured", {"fate": "destroyed", "detail": "burnt and then sunk"}],
        captured_by=ledger.taliban,
        first_seen=dt.date(2021, 8, 1),
        first_seen_precision="month",
        lon=69.18,
        lat=34.52,
        unit="-215th Corps",
        markings='=HYPERLINK("x");"311"',
        evidence=[three, two],
    )
    ledger.loss(
        ledger.ranger, side=ledger.taliban, tags=["night", "convoy, burnt"], evidence=[two, one]
    )
    ledger.loss(ledger.t55, fates=["abandoned"], is_sample=True, evidence=[one])
    # A model only this instance knows: the import creates it in its category.
    odd = EquipmentModel.objects.create(slug="odd", name="Odd truck (test)", category=ledger.trucks)
    ledger.loss(odd, first_seen=dt.date(2021, 7, 30))


def test_it_maps_every_column_of_our_export() -> None:
    mapped = set()
    for spec in ATTRITION_MAPPING["fields"].values():
        mapped.add(spec if isinstance(spec, str) else spec["column"])
    assert mapped | set(ATTRITION_UNREAD) == set(CSV_COLUMNS)
    assert not mapped & set(ATTRITION_UNREAD)


def test_it_exports_imports_and_exports_the_same_rows(ledger: Ledger) -> None:
    _fill(ledger)
    before = _export()
    _ledger_emptied()
    EquipmentModel.objects.filter(slug="odd").delete()
    report = import_run(
        kind="csv",
        data=before.encode(),
        source_name="losses.csv",
        options=ImportOptions(
            status="verified", params={"mapping": ATTRITION_MAPPING, "mapping_name": "attrition"}
        ),
    )
    # Texts a spreadsheet would run as formulas are written as text, and imported as they were.
    assert "'=HYPERLINK" in before
    assert "'-215th Corps" in before
    assert report.counts()["created"] == 4, report.text()
    assert Loss.objects.filter(markings='=HYPERLINK("x");"311"', unit="-215th Corps").count() == 1
    assert report.models_created == ["Odd truck (test) (Test trucks)"]
    after = _export()
    assert _rows(after) == _rows(before)
    assert len(_rows(after)) == 4
    assert after != before, "the ids are this instance's own"
