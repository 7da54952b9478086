"""Importing control records from CSV and territory transfers from an ACLED export.

The ACLED rows below are written for these tests in ACLED's column format; they are not ACLED
data (its terms forbid redistributing any).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from click.testing import CliRunner

from attrition.cli import cli
from attrition.evidence.models import Evidence, Platform
from attrition.importers.models import SourceRecord
from attrition.losses.choices import ReviewStatus
from attrition.territory.acled import acled_import
from attrition.territory.imports import csv_import
from attrition.territory.models import ControlRecord, ControlStatus
from tests.territory.tiny import Map

CSV = """province,district,date,status,source,side
North,Alpha,2021-06-20,Taliban controlled,https://example.org/news/alpha-falls,taliban
North,Brawo,2021-06-21,contested,LWJ map of 21 June,
Sud,Charlie,2021-06-22,government,,
North,Alfa,2021-06-23,contested,,
Nowhere,Echo,2021-06-24,contested,,
South,Delta,2021-06-25,held,,
"""

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2",
    "admin3", "location", "latitude", "longitude", "geo_precision", "source", "source_scale",
    "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip


def acled_row(event_id: str, sub_event: str, actor: str, inter: str, admin1: str, admin2: str,
              date: str = "2021-07-05") -> dict[str, str]:  # fmt: skip
    row = dict.fromkeys(ACLED_COLUMNS, "")
    row.update(
        event_id_cnty=event_id,
        event_date=date,
        year=date[:4],
        event_type="Strategic developments",
        sub_event_type=sub_event,
        actor1=actor,
        inter1=inter,
        country="Tinyland",
        admin1=admin1,
        admin2=admin2,
        location=f"{admin2} centre",
        source="Test Agency; Test Radio",
        notes=f"Test note: {actor} took the centre of {admin2} district (fixture, not ACLED data).",
    )
    return row


def acled_file(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ACLED_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


ACLED = acled_file(
    [
        acled_row(
            "TST1",
            "Non-state actor overtakes territory",
            "Taliban",
            "Rebel group",
            "North",
            "Alpha",
            "2021-06-20",
        ),
        acled_row(
            "TST2",
            "Government regains territory",
            "Military Forces of Tinyland (2004-2021)",
            "State forces",
            "North",
            "Alpha",
        ),
        acled_row(
            "TST3",
            "Non-violent transfer of territory",
            "Taliban",
            "Rebel group",
            "Sud",
            "Charlie",
            "05 July 2021",
        ),
        acled_row("TST4", "Armed clash", "Taliban", "Rebel group", "North", "Bravo"),
        acled_row(
            "TST5",
            "Non-state actor overtakes territory",
            "Taliban",
            "Rebel group",
            "North",
            "Bravoo",
        ),
    ]
)


def test_it_reports_a_dry_run_and_writes_nothing(tiny_map: Map) -> None:
    report = csv_import(conflict=tiny_map.conflict, data=CSV.encode(), source="t.csv", dry_run=True)
    assert report.dry_run
    assert len(report.created) == 3
    assert ControlRecord.objects.count() == 0
    assert "would create 3 control records" in report.text()


def test_it_reports_unmatched_names_and_never_guesses(tiny_map: Map) -> None:
    report = csv_import(conflict=tiny_map.conflict, data=CSV.encode(), source="t.csv")
    unmatched = {u.line: u for u in report.unmatched}
    assert set(unmatched) == {5, 6}
    assert unmatched[5].problem == "no district 'Alfa' in North"
    assert unmatched[5].suggestions == ["Alpha"]  # offered, not applied
    assert unmatched[6].problem == "no province 'Nowhere'"
    assert [(r.line, r.reason) for r in report.rejected] == [(7, "unknown status 'held'")]
    assert "line 5: unmatched Alfa, North: no district 'Alfa' in North (close: Alpha)" in (
        report.text()
    )
    assert not ControlRecord.objects.filter(unit=tiny_map.alpha, status="contested").exists()


def test_it_imports_records_for_review_through_aliases(tiny_map: Map) -> None:
    m = tiny_map
    csv_import(conflict=m.conflict, data=CSV.encode(), source="t.csv")
    alpha = ControlRecord.objects.get(unit=m.alpha)
    assert alpha.status == ControlStatus.INSURGENT
    assert alpha.controlling_side == m.taliban
    assert alpha.review_status == ReviewStatus.SUBMITTED
    assert [e.url for e in alpha.evidence.all()] == ["https://example.org/news/alpha-falls"]
    bravo = ControlRecord.objects.get(unit=m.bravo)  # "Brawo" is an alias of Bravo
    assert bravo.note == "Source: LWJ map of 21 June"
    assert ControlRecord.objects.get(unit=m.charlie).status == ControlStatus.GOVERNMENT
    assert alpha.versions.get().change_kind == "import"  # type: ignore[attr-defined]


def test_it_changes_nothing_when_the_same_file_comes_again(tiny_map: Map) -> None:
    csv_import(conflict=tiny_map.conflict, data=CSV.encode(), source="t.csv")
    again = csv_import(conflict=tiny_map.conflict, data=CSV.encode(), source="t.csv")
    assert again.created == []
    assert len(again.unchanged) == 3
    assert ControlRecord.objects.count() == 3


def test_it_turns_acled_transfers_into_evidence_and_draft_records(tiny_map: Map) -> None:
    m = tiny_map
    report = acled_import(conflict=m.conflict, data=ACLED, source="acled.csv")
    assert len(report.created) == 3
    assert report.ignored == 1  # the armed clash
    assert [(u.place, u.suggestions) for u in report.unmatched] == [("Bravoo, North", ["Bravo"])]
    records = ControlRecord.objects.order_by("since", "pk")
    assert [(r.unit_id, r.status, r.since) for r in records] == [
        (m.alpha.pk, ControlStatus.INSURGENT, dt.date(2021, 6, 20)),
        (m.alpha.pk, ControlStatus.GOVERNMENT, dt.date(2021, 7, 5)),
        (m.charlie.pk, ControlStatus.INSURGENT, dt.date(2021, 7, 5)),
    ]
    assert {r.review_status for r in records} == {ReviewStatus.DRAFT}
    assert records[0].controlling_side == m.taliban
    evidence = records[0].evidence.get()
    assert evidence.platform == Platform.UPLOAD
    assert evidence.title.startswith("ACLED TST1: Non-state actor overtakes territory")
    assert SourceRecord.objects.get(source="acled", external_id="TST1").evidence == evidence
    again = acled_import(conflict=m.conflict, data=ACLED, source="acled.csv")
    assert again.created == []
    assert len(again.unchanged) == 3
    assert Evidence.objects.count() == 3


def test_it_runs_from_the_command_line_with_a_dry_run(tiny_map: Map, tmp_path: Path) -> None:
    path = tmp_path / "control.csv"
    path.write_text(CSV)
    runner = CliRunner()
    dry = runner.invoke(
        cli, ["territory", "import-csv", str(path), "--conflict", "test-war", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output
    assert "unmatched Echo, Nowhere" in dry.output
    assert ControlRecord.objects.count() == 0
    real = runner.invoke(cli, ["territory", "import-csv", str(path), "--conflict", "test-war"])
    assert real.exit_code == 0, real.output
    assert ControlRecord.objects.count() == 3
    summary = runner.invoke(cli, ["territory", "summary", "test-war", "--date", "2021-07-01"])
    assert summary.exit_code == 0, summary.output
    assert "4 districts" in summary.output
    unknown = runner.invoke(cli, ["territory", "import-csv", str(path), "--conflict", "nope"])
    assert unknown.exit_code == 2
    assert "no conflict 'nope'" in unknown.output
