"""Cross-source linking: an Oryx item and a WarSpotting record citing one piece of evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, import_run, source_read
from attrition.importers.report import ImportReport
from attrition.losses.models import Depiction, Loss
from tests.importers.conftest import oryx_set

pytestmark = pytest.mark.usefixtures("reference", "tanks_and_bmps")

PHOTO = "https://i.postimg.cc/AbCdEf12/1001-t72b3.jpg"


def ws_record(ident: int, url: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "Tanks",
        "model": "T-72B3",
        "status": "Destroyed",
        "lost_by": "Russia",
        "date": "2024-03-01",
        "nearest_location": "Berdychi",
        "geo": None,
        "unit": None,
        "tags": None,
        "sources": [url],
        **fields,
    }


def import_csv(path: Path) -> ImportReport:
    data = source_read(path, directory=True)
    return import_run(kind="oryx_csv", data=data, source_name="set", options=ImportOptions())


def import_ws(records: list[dict[str, Any]]) -> ImportReport:
    data = json.dumps({"losses": records}).encode()
    return import_run(kind="warspotting", data=data, source_name="ws", options=ImportOptions())


def sources_of(loss: Loss) -> list[str]:
    return sorted(loss.source_records.values_list("source", flat=True))


def test_it_links_an_oryx_item_to_a_warspotting_record_citing_the_same_evidence(
    tmp_path: Path,
) -> None:
    import_ws([ws_record(1, "https://mobile.twitter.com/a/status/9?s=20")])
    report = import_csv(
        oryx_set(tmp_path / "s", [("Russia", "3 T-72B3", "http://x.com/a/status/9/")])
    )
    loss = Loss.objects.get()
    assert report.linked == [
        f"Russia|T-72B3|http://x.com/a/status/9/: linked to loss #{loss.pk} from warspotting"
    ]
    assert report.created == []
    assert sources_of(loss) == ["oryx_csv", "warspotting"]
    assert Depiction.objects.filter(loss=loss).count() == 1
    assert import_csv(tmp_path / "s").changes_nothing
    assert Loss.objects.count() == 1


def test_it_links_in_the_other_order_too_and_adds_the_evidence_the_loss_lacks(
    tmp_path: Path,
) -> None:
    import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", PHOTO)]))
    record = ws_record(7, "https://t.me/example_channel/1201", oryx_url=PHOTO)
    report = import_ws([record])
    loss = Loss.objects.get()
    assert report.linked == [f"7: linked to loss #{loss.pk} from oryx_csv"]
    assert sources_of(loss) == ["oryx_csv", "warspotting"]
    assert Depiction.objects.filter(loss=loss).count() == 2
    assert import_ws([record]).changes_nothing
    assert SourceRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"lost_by": "Ukraine"}, "side 'Russia' here, 'Ukraine' there"),
        (
            {"type": "Infantry fighting vehicles", "model": "BMP-2"},
            "category 'Tanks' here, 'Infantry Fighting Vehicles' there",
        ),
    ],
)
def test_it_reports_a_conflict_instead_of_linking_when_they_disagree(
    tmp_path: Path, fields: dict[str, Any], why: str
) -> None:
    import_ws([ws_record(1, PHOTO, **fields)])
    report = import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", PHOTO)]))
    assert report.linked == []
    assert len(report.link_conflicts) == 1
    assert why.casefold() in report.link_conflicts[0].casefold()
    assert Loss.objects.count() == 2


def test_it_links_only_when_as_many_items_as_losses_cite_the_url(tmp_path: Path) -> None:
    import_ws([ws_record(1, PHOTO)])
    rows = [("Russia", "T-72B3", PHOTO), ("Russia", "BMP-2", PHOTO)]
    report = import_csv(oryx_set(tmp_path / "s", rows))
    assert report.linked == []
    assert len(report.link_conflicts) == 2
    assert "the counts differ" in report.link_conflicts[0]
    assert Loss.objects.count() == 3


def test_it_links_one_to_one_when_the_counts_agree(tmp_path: Path) -> None:
    bmp = {"type": "Infantry fighting vehicles", "model": "BMP-2"}
    import_ws([ws_record(1, PHOTO, **bmp), ws_record(2, PHOTO)])
    rows = [("Russia", "T-72B3", PHOTO), ("Russia", "BMP-2", PHOTO)]
    report = import_csv(oryx_set(tmp_path / "s", rows))
    assert len(report.linked) == 2
    assert Loss.objects.count() == 2
    for loss in Loss.objects.all():
        assert sources_of(loss) == ["oryx_csv", "warspotting"]
        assert {r.raw.get("model") for r in loss.source_records.all()} == {loss.model.name}


def test_it_links_a_csv_row_citing_an_oryx_item_evidence(tmp_path: Path) -> None:
    import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", PHOTO)]))
    mapping = {
        "source": "tracker",
        "fields": {
            "external_id": "ID",
            "side": "Lost by",
            "model": "Model",
            "fate": "Status",
            "evidence_urls": "Links",
        },
    }
    text = f"ID,Lost by,Model,Status,Links\n5,russia,T-72B3,destroyed,{PHOTO}?utm_source=x\n"
    options = ImportOptions(
        conflict="russia-ukraine-2022", params={"mapping": mapping, "mapping_name": "tracker"}
    )
    report = import_run(kind="csv", data=text.encode(), source_name="t.csv", options=options)
    loss = Loss.objects.get()
    assert report.linked == [f"tracker:5: linked to loss #{loss.pk} from oryx_csv"]
    assert report.created == []
    assert sources_of(loss) == ["csv", "oryx_csv"]
    again = import_run(kind="csv", data=text.encode(), source_name="t.csv", options=options)
    assert again.changes_nothing
