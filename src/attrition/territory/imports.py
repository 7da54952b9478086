"""Import control records from a CSV file: plan (a dry run) first, then write it whole.

Columns: `province` and `district` (or `unit`: a code such as AF17-wakhan, or "District,
Province"), `date` (YYYY-MM-DD), `status`, `source` (a URL becomes evidence; other text goes
into the note); optional `side`, `last_confirmed`, `confidence`, `note`. Names are matched through
the alias table (attrition.territory.matching); unmatched names are reported, never guessed.
A row whose unit already has a record with the same status from the same date is left alone, so
importing a file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from attrition.catalog.models import Conflict, Side
from attrition.catalog.services import alias_normalize
from attrition.errors import InvalidInput, NotFound
from attrition.evidence.services import evidence_create, url_canonical
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.territory.matching import UnitMatcher
from attrition.territory.models import AdminUnit, ControlRecord, ControlStatus
from attrition.territory.services import NEW_STATUSES, control_record_create

VIA = "import:csv"
CONFIDENCES = ("low", "medium", "high")
# Spellings of statuses seen in trackers' tables (LWJ: "Taliban controlled", "contested", ...).
STATUS_WORDS: dict[str, str] = {
    **{alias_normalize(s): s for s in ControlStatus.values},
    **{alias_normalize(label): value for value, label in ControlStatus.choices},
    "governmentcontrolled": ControlStatus.GOVERNMENT,
    "govt": ControlStatus.GOVERNMENT,
    "talibancontrolled": ControlStatus.INSURGENT,
    "insurgentcontrolled": ControlStatus.INSURGENT,
    "controlled": ControlStatus.INSURGENT,
    "unconfirmed": ControlStatus.CLAIMED,
    "claimedunconfirmed": ControlStatus.CLAIMED,
    "talibanclaimed": ControlStatus.CLAIMED,
}


@dataclass(frozen=True)
class Unmatched:
    """A row whose place names match no unit, and the spellings that come close."""

    line: int
    place: str
    problem: str
    suggestions: list[str]


@dataclass(frozen=True)
class Skipped:
    """A row left out, and why."""

    line: int
    reason: str


@dataclass
class TerritoryImportReport:
    """What a territory import did or would do."""

    source: str
    kind: str
    dry_run: bool = True
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    rejected: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # rows that are not for this import (e.g. other ACLED event types)

    def counts(self) -> dict[str, int]:
        """Return the report's counts by outcome."""
        return {
            "created": len(self.created),
            "unchanged": len(self.unchanged),
            "unmatched": len(self.unmatched),
            "rejected": len(self.rejected),
            "ignored": self.ignored,
        }

    def text(self) -> str:
        """Return the report in words, one line per problem."""
        verb = "would create" if self.dry_run else "created"
        dry = " (dry run: nothing written)" if self.dry_run else ""
        lines = [
            f"{self.kind} import of {self.source}{dry}",
            f"  {verb} {len(self.created)} control records; {len(self.unchanged)} already "
            f"recorded; {len(self.unmatched)} unmatched; {len(self.rejected)} rejected"
            + (f"; {self.ignored} other rows ignored" if self.ignored else ""),
        ]
        for item in self.unmatched:
            hint = f" (close: {', '.join(item.suggestions)})" if item.suggestions else ""
            lines.append(f"  line {item.line}: unmatched {item.place}: {item.problem}{hint}")
        for skipped in self.rejected:
            lines.append(f"  line {skipped.line}: rejected: {skipped.reason}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PlannedRecord:
    """One control record an import would create."""

    line: int
    unit_id: int
    label: str
    status: str
    since: dt.date
    side_id: int | None = None
    last_confirmed: dt.date | None = None
    confidence: str = "medium"
    note: str = ""
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """Return the rows of a UTF-8 CSV file as dicts keyed by lower-case column names."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 text ({exc.reason})") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise InvalidInput("the file is empty: expected a header row")
    return [
        {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader
    ]


def date_parse(text: str) -> dt.date:
    """Return the date written as YYYY-MM-DD (or as ACLED's "05 July 2021"), or raise ValueError."""
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")


def side_find(conflict: Conflict, text: str) -> Side | None:
    """Return the conflict's side whose slug, name or short name is `text`, or None."""
    wanted = alias_normalize(text)
    for side in conflict.sides.all():
        if wanted in {alias_normalize(side.slug), alias_normalize(side.name),
                      alias_normalize(side.short_name)}:  # fmt: skip
            return side
    return None


def conflict_get(slug: str) -> Conflict:
    """Return the conflict with this slug that has a map, or raise NotFound / InvalidInput."""
    conflict = Conflict.objects.filter(slug=slug).first()
    if conflict is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        raise NotFound(f"no conflict {slug!r} (known: {known})")
    if conflict.boundary_set_id is None:
        raise InvalidInput(f"{conflict.name} has no boundary set, so no units to record control of")
    return conflict


def _place(row: dict[str, str]) -> tuple[str, str]:
    """Return (province, district) of a row, from its own columns or its `unit` column."""
    if row.get("province") or row.get("district"):
        return row.get("province", ""), row.get("district", "")
    unit = row.get("unit", "")
    if "," in unit:
        district, _, province = unit.rpartition(",")
        return province.strip(), district.strip()
    return "", unit


@dataclass
class Plan:
    """The records an import would create, and its report."""

    report: TerritoryImportReport
    records: list[PlannedRecord] = field(default_factory=list)


def _known(conflict: Conflict) -> set[tuple[int, str, dt.date]]:
    rows = ControlRecord.objects.filter(conflict=conflict, deleted_at__isnull=True)
    return set(rows.values_list("unit_id", "status", "since"))


def csv_plan(conflict: Conflict, rows: list[dict[str, str]], *, source: str) -> Plan:
    """Return what importing these CSV rows would create (reads only)."""
    plan = Plan(report=TerritoryImportReport(source=source, kind="territory CSV"))
    if rows and not ({"date", "status"} <= set(rows[0])):
        raise InvalidInput(
            "the CSV needs the columns date and status, and province/district or unit"
        )
    matcher = UnitMatcher(conflict.boundary_set_id or 0)
    known = _known(conflict)
    for line, row in enumerate(rows, start=2):
        province, district = _place(row)
        place = ", ".join(p for p in (district, province) if p) or "(no place)"
        match = matcher.match(province=province, district=district)
        if match.unit_id is None:
            plan.report.unmatched.append(Unmatched(line, place, match.problem, match.suggestions))
            continue
        status = STATUS_WORDS.get(alias_normalize(row.get("status", "")))
        if status is None:
            plan.report.rejected.append(Skipped(line, f"unknown status {row.get('status')!r}"))
            continue
        try:
            since = date_parse(row.get("date", ""))
            confirmed = date_parse(row["last_confirmed"]) if row.get("last_confirmed") else None
        except ValueError as exc:
            plan.report.rejected.append(Skipped(line, str(exc)))
            continue
        if confirmed is not None and confirmed < since:
            plan.report.rejected.append(
                Skipped(line, f"last_confirmed {confirmed} is before {since}")
            )
            continue
        confidence = (row.get("confidence") or "medium").lower()
        if confidence not in CONFIDENCES:
            plan.report.rejected.append(
                Skipped(line, f"confidence {confidence!r} is not low, medium or high")
            )
            continue
        side = side_find(conflict, row["side"]) if row.get("side") else None
        if row.get("side") and side is None:
            plan.report.rejected.append(
                Skipped(line, f"no side {row['side']!r} in {conflict.name}")
            )
            continue
        label = f"{matcher.names[match.unit_id]}: {status} from {since}"
        if (match.unit_id, status, since) in known:
            plan.report.unchanged.append(label)
            continue
        known.add((match.unit_id, status, since))
        source_text = row.get("source", "")
        is_url = source_text.startswith(("http://", "https://"))
        if is_url:
            try:
                url_canonical(source_text)
            except InvalidInput as exc:
                plan.report.rejected.append(Skipped(line, f"source: {exc.message}"))
                continue
        note = row.get("note", "")
        if source_text and not is_url:
            note = f"{note}\nSource: {source_text}".strip()
        plan.records.append(
            PlannedRecord(
                line=line,
                unit_id=match.unit_id,
                label=label,
                status=status,
                since=since,
                side_id=side.pk if side else None,
                last_confirmed=confirmed,
                confidence=confidence,
                note=note,
                url=source_text if is_url else "",
            )
        )
        plan.report.created.append(label)
    return plan


def side_by_id(conflict: Conflict, side_id: int | None) -> Side | None:
    """Return the conflict's side with this id, or None."""
    return conflict.sides.filter(pk=side_id).first() if side_id is not None else None


def csv_import(
    *,
    conflict: Conflict,
    data: bytes,
    source: str,
    dry_run: bool = False,
    review_status: str = ReviewStatus.SUBMITTED,
    by: Any = None,
) -> TerritoryImportReport:
    """Plan a CSV import and, unless it is a dry run, write it in one transaction."""
    if review_status not in NEW_STATUSES:
        raise InvalidInput("imported control records are draft or submitted; review verifies them")
    rows = csv_rows(data)
    plan = csv_plan(conflict, rows, source=source)
    if dry_run:
        return plan.report
    with transaction.atomic():
        plan = csv_plan(conflict, rows, source=source)  # again, inside the transaction
        units = AdminUnit.objects.defer("geometry").in_bulk([r.unit_id for r in plan.records])
        for planned in plan.records:
            try:
                evidence = [evidence_create(url=planned.url, by=by, via=VIA)] if planned.url else []
                control_record_create(
                    conflict=conflict,
                    unit=units[planned.unit_id],
                    status=planned.status,
                    since=planned.since,
                    controlling_side=side_by_id(conflict, planned.side_id),
                    last_confirmed=planned.last_confirmed,
                    confidence=planned.confidence,
                    note=planned.note,
                    evidence=evidence,
                    review_status=review_status,
                    by=by,
                    kind=ChangeKind.IMPORT,
                    reason=f"{source}, line {planned.line}",
                    via=VIA,
                )
            except InvalidInput as exc:
                raise InvalidInput(f"{source}, line {planned.line}: {exc.message}") from None
    plan.report.dry_run = False
    return plan.report
