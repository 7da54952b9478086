"""Helpers of the CSV importer tests: run an import of some text through a mapping."""

from __future__ import annotations

from typing import Any

from attrition.importers.registry import ImportOptions, import_run
from attrition.importers.report import ImportReport

# A mapping of a LostArmour-like file: Russian fate words, side names, dd.mm.yyyy dates.
MAPPING: dict[str, Any] = {
    "source": "tracker",
    "fields": {
        "external_id": "ID",
        "side": {"column": "Lost by", "values": {"Afghan army": "andsf", "Талибан": "taliban"}},
        "model": "Model",
        "category": {"column": "Type", "values": {"tank": "test-tanks"}},
        "fate": {
            "column": "Status",
            "values": {"уничтожен": "destroyed", "захвачен": "captured", "burnt": "destroyed"},
        },
        "captured_by": {"column": "Captor", "values": {"Талибан": "taliban"}},
        "first_seen": {"column": "Date", "formats": ["%d.%m.%Y", "%m.%Y"]},
        "lat": "Lat",
        "lon": "Lon",
        "markings": "Markings",
        "tags": {"column": "Tags", "separator": ","},
        "notes": "Notes",
        "evidence_urls": "Links",
    },
}
HEADER = "ID,Lost by,Model,Type,Status,Captor,Date,Lat,Lon,Markings,Tags,Notes,Links\n"


def csv_import(
    text: str | bytes,
    *,
    mapping: dict[str, Any] | None = None,
    dry_run: bool = False,
    conflict: str | None = "test-war",
    **options: Any,
) -> ImportReport:
    """Import CSV text through `mapping` (the tracker's by default); return the report."""
    data = text.encode() if isinstance(text, str) else text
    return import_run(
        kind="csv",
        data=data,
        source_name="losses.csv",
        options=ImportOptions(
            conflict=conflict,
            dry_run=dry_run,
            params={"mapping": mapping or MAPPING, "mapping_name": "tracker"},
            **options,
        ),
    )
