"""Import territory transfers from a user's own ACLED export as evidence and draft records.

Of an ACLED export (CSV, ACLED's column names), only the rows of the three territory-transfer
sub-event types are used; the others are counted and ignored. Each used row becomes:

1. evidence: the export row itself (ACLED events have no URL of their own, so it is kept as an
   uploaded document), with its source list, notes and date, and a source record keyed on
   `event_id_cnty`, so that importing the export again changes nothing;
2. a draft control record of the district (matched on `admin1` + `admin2` through the alias
   table; unmatched names are reported, never guessed), for a reviewer to check and submit.

ACLED's terms forbid redistributing its data: attrition ships none of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import transaction

from attrition import history
from attrition.catalog.models import Conflict, Side
from attrition.catalog.services import alias_normalize
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence, Platform
from attrition.history import ChangeKind
from attrition.importers.models import SourceRecord
from attrition.losses.choices import ReviewStatus
from attrition.territory.imports import (
    Plan,
    PlannedRecord,
    Skipped,
    TerritoryImportReport,
    Unmatched,
    csv_rows,
    date_parse,
    side_by_id,
)
from attrition.territory.matching import UnitMatcher
from attrition.territory.models import AdminUnit, ControlStatus
from attrition.territory.services import control_record_create

SOURCE = "acled"
VIA = "import:acled"
OVERTAKES = "Non-state actor overtakes territory"
REGAINS = "Government regains territory"
NON_VIOLENT = "Non-violent transfer of territory"
SUB_EVENTS = (OVERTAKES, REGAINS, NON_VIOLENT)
REQUIRED = ("event_id_cnty", "event_date", "sub_event_type", "actor1", "admin1", "admin2")


def _state_actor(row: dict[str, str]) -> bool:
    """Return whether actor 1 is a state force (ACLED's inter1 code 1, or its name)."""
    inter = row.get("inter1", "").strip().lower()
    actor = row.get("actor1", "").lower()
    return inter in {"1", "state forces"} or actor.startswith(
        ("military forces of", "police forces of")
    )


def status_for(row: dict[str, str]) -> str:
    """Return the control status an ACLED territory-transfer row reports."""
    sub_event = row["sub_event_type"]
    if sub_event == REGAINS or (sub_event == NON_VIOLENT and _state_actor(row)):
        return ControlStatus.GOVERNMENT
    return ControlStatus.INSURGENT


def side_for(conflict: Conflict, row: dict[str, str]) -> Side | None:
    """Return the side whose name or short name appears in actor 1, or None for a reviewer."""
    actor = alias_normalize(row.get("actor1", ""))
    for side in conflict.sides.all():
        names = {alias_normalize(side.name), alias_normalize(side.short_name)}
        if any(name and name in actor for name in names):
            return side
    return None


def acled_plan(conflict: Conflict, rows: list[dict[str, str]], *, source: str) -> Plan:
    """Return what importing these ACLED rows would create (reads only)."""
    plan = Plan(report=TerritoryImportReport(source=source, kind="ACLED territory"))
    if rows:
        missing = [c for c in REQUIRED if c not in rows[0]]
        if missing:
            raise InvalidInput(f"not an ACLED export: the columns {', '.join(missing)} are missing")
    matcher = UnitMatcher(conflict.boundary_set_id or 0)
    seen = set(SourceRecord.objects.filter(source=SOURCE).values_list("external_id", flat=True))
    for line, row in enumerate(rows, start=2):
        if row.get("sub_event_type") not in SUB_EVENTS:
            plan.report.ignored += 1
            continue
        event_id = row["event_id_cnty"]
        label = f"ACLED {event_id}: {row['sub_event_type']} in {row['admin2']}, {row['admin1']}"
        if event_id in seen:
            plan.report.unchanged.append(label)
            continue
        seen.add(event_id)
        match = matcher.match(province=row["admin1"], district=row["admin2"])
        if match.unit_id is None:
            place = f"{row['admin2']}, {row['admin1']}"
            plan.report.unmatched.append(Unmatched(line, place, match.problem, match.suggestions))
            continue
        try:
            since = date_parse(row["event_date"])
        except ValueError as exc:
            plan.report.rejected.append(Skipped(line, str(exc)))
            continue
        side = side_for(conflict, row)
        plan.records.append(
            PlannedRecord(
                line=line,
                unit_id=match.unit_id,
                label=label,
                status=status_for(row),
                since=since,
                side_id=side.pk if side else None,
                confidence="low",
                note=f"ACLED {event_id} ({row['sub_event_type']}): {row.get('notes', '')}".strip(),
                extra={"row": row},
            )
        )
        plan.report.created.append(label)
    return plan


def _evidence(row: dict[str, str], *, since: dt.date, by: Any) -> Evidence:
    """Create the evidence that an ACLED row is: the export's record of the event."""
    evidence = Evidence.objects.create(
        platform=Platform.UPLOAD,
        title=f"ACLED {row['event_id_cnty']}: {row['sub_event_type']} ({row.get('location', '')})"[
            :500
        ],
        channel=f"ACLED; sources: {row.get('source', '')}"[:300],
        description=row.get("notes", ""),
        posted_at=dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC),
        added_by=by if getattr(by, "is_authenticated", False) else None,
    )
    history.record_version(evidence, by=by, kind=ChangeKind.IMPORT, via=VIA)
    raw = json.dumps(row, sort_keys=True, ensure_ascii=False)
    SourceRecord.objects.create(
        source=SOURCE,
        external_id=row["event_id_cnty"],
        raw_label=row["sub_event_type"],
        raw=row,
        evidence=evidence,
        content_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )
    return evidence


def acled_import(
    *, conflict: Conflict, data: bytes, source: str, dry_run: bool = False, by: Any = None
) -> TerritoryImportReport:
    """Plan an ACLED import and, unless it is a dry run, write it in one transaction."""
    rows = csv_rows(data)
    plan = acled_plan(conflict, rows, source=source)
    if dry_run:
        return plan.report
    with transaction.atomic():
        plan = acled_plan(conflict, rows, source=source)
        units = AdminUnit.objects.defer("geometry").in_bulk([r.unit_id for r in plan.records])
        for planned in plan.records:
            evidence = _evidence(planned.extra["row"], since=planned.since, by=by)
            control_record_create(
                conflict=conflict,
                unit=units[planned.unit_id],
                status=planned.status,
                since=planned.since,
                controlling_side=side_by_id(conflict, planned.side_id),
                confidence=planned.confidence,
                note=planned.note,
                evidence=[evidence],
                review_status=ReviewStatus.DRAFT,
                by=by,
                kind=ChangeKind.IMPORT,
                reason=f"{source}, line {planned.line}",
                via=VIA,
            )
    plan.report.dry_run = False
    return plan.report
