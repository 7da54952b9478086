"""Reads of territorial control: every unit's status on a date, counts, roll-ups and borders.

The rule, in one place: a unit's status on a date D is the status of its latest verified,
non-deleted control record with `since` <= D (the newest record wins a tie). A recapture is simply
a later record. A unit with no such record is "unknown": control is never inferred from silence,
and a known status carries the age of its last confirmation on D, so that a stale one shows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from attrition.catalog.models import Conflict
from attrition.losses.choices import ReviewStatus
from attrition.territory.models import AdminUnit, BorderSegment, ControlRecord, ControlStatus

UNKNOWN = "unknown"
# The order statuses are listed and drawn in, "unknown" last.
STATUS_ORDER: tuple[str, ...] = (*ControlStatus.values, UNKNOWN)
STATUS_LABELS: dict[str, str] = {**dict(ControlStatus.choices), UNKNOWN: "unknown"}
# A status whose last confirmation is older than this on the date asked about is flagged stale.
STALE_AFTER_DAYS = 30
DISTRICT = AdminUnit.Level.DISTRICT
COUNTRY_NAMES = {
    "CHN": "China",
    "IRN": "Iran",
    "PAK": "Pakistan",
    "TJK": "Tajikistan",
    "TKM": "Turkmenistan",
    "UZB": "Uzbekistan",
}


@dataclass(frozen=True)
class UnitStatus:
    """What the ledger says about one unit on one date."""

    unit_id: int
    status: str = UNKNOWN
    record_id: int | None = None
    side_id: int | None = None
    since: dt.date | None = None
    # The record's last confirmation (its start when it has none); may be after the date asked
    # about, which then lies between two observations of the same status (age 0).
    confirmed: dt.date | None = None
    age_days: int | None = None
    # For a claim: the status of the latest assessed (not claimed) record before it, if any.
    assessed: str | None = None

    @property
    def stale(self) -> bool:
        """Return whether the last confirmation is older than STALE_AFTER_DAYS on the date."""
        return self.age_days is not None and self.age_days > STALE_AFTER_DAYS


def verified_records(conflict: Conflict) -> QuerySet[ControlRecord]:
    """Return the control records of a conflict that readers see: verified, not deleted."""
    return ControlRecord.objects.filter(
        conflict=conflict, review_status=ReviewStatus.VERIFIED, deleted_at__isnull=True
    )


def conflict_units(conflict: Conflict, *, level: int = DISTRICT) -> QuerySet[AdminUnit]:
    """Return the units of one level of a conflict's boundary set (outlines left out)."""
    return AdminUnit.objects.filter(boundary_set_id=conflict.boundary_set_id, level=level).defer(
        "geometry"
    )


def _latest_ids(
    conflict: Conflict, on: dt.date, units: QuerySet[AdminUnit], *, assessed_only: bool = False
) -> dict[int, int | None]:
    """Return {unit id: id of its latest verified record on `on`, or None}: a seek per unit."""
    records = verified_records(conflict).filter(unit=OuterRef("pk"), since__lte=on)
    if assessed_only:
        records = records.exclude(status=ControlStatus.CLAIMED)
    latest = records.order_by("-since", "-pk").values("pk")[:1]
    return dict(units.annotate(latest=Subquery(latest)).values_list("pk", "latest"))


def status_on(
    conflict: Conflict, on: dt.date, *, level: int = DISTRICT, units: Iterable[int] | None = None
) -> dict[int, UnitStatus]:
    """Return the status of every unit of a level (or of `units`) on a date, unknown included."""
    queryset = conflict_units(conflict, level=level).order_by()
    if units is not None:
        queryset = queryset.filter(pk__in=list(units))
    latest = _latest_ids(conflict, on, queryset)
    rows = ControlRecord.objects.filter(pk__in=[r for r in latest.values() if r]).values_list(
        "pk", "unit_id", "status", "controlling_side_id", "since", "last_confirmed"
    )
    result = {unit_id: UnitStatus(unit_id=unit_id) for unit_id in latest}
    claimed: list[int] = []
    for pk, unit_id, status, side_id, since, last_confirmed in rows:
        confirmed = last_confirmed or since
        result[unit_id] = UnitStatus(
            unit_id=unit_id,
            status=status,
            record_id=pk,
            side_id=side_id,
            since=since,
            confirmed=confirmed,
            age_days=max((on - confirmed).days, 0),
        )
        if status == ControlStatus.CLAIMED:
            claimed.append(unit_id)
    if claimed:
        assessed = _latest_ids(conflict, on, queryset.filter(pk__in=claimed), assessed_only=True)
        statuses = dict(
            ControlRecord.objects.filter(pk__in=[r for r in assessed.values() if r]).values_list(
                "unit_id", "status"
            )
        )
        for unit_id in claimed:
            old = result[unit_id]
            result[unit_id] = UnitStatus(
                **{**old.__dict__, "assessed": statuses.get(unit_id, UNKNOWN)}
            )
    return result


# -- counts and their change ---------------------------------------------------------------------


def _ordered(counter: Counter[str]) -> dict[str, int]:
    return {status: counter.get(status, 0) for status in STATUS_ORDER}


@dataclass(frozen=True)
class StatusCounts:
    """How many units had each status on a date, and how many of the known ones were stale."""

    on: dt.date
    total: int
    by_status: dict[str, int]
    stale: int


def counts_of(statuses: dict[int, UnitStatus], on: dt.date) -> StatusCounts:
    """Return the counts by status of a status_on() result."""
    return StatusCounts(
        on=on,
        total=len(statuses),
        by_status=_ordered(Counter(s.status for s in statuses.values())),
        stale=sum(1 for s in statuses.values() if s.stale),
    )


def district_counts(conflict: Conflict, on: dt.date) -> StatusCounts:
    """Return how many districts had each status on a date."""
    return counts_of(status_on(conflict, on), on)


@dataclass(frozen=True)
class Change:
    """One unit's status changing on a date, by a verified record."""

    unit_id: int
    on: dt.date
    before: str
    after: str
    record_id: int

    @property
    def kind(self) -> str:
        """Return what the change was: recorded, fell, recaptured, contested or claimed."""
        if self.before == UNKNOWN:
            return "recorded"
        return {
            ControlStatus.INSURGENT: "fell",
            ControlStatus.GOVERNMENT: "recaptured",
            ControlStatus.CONTESTED: "contested",
            ControlStatus.CLAIMED: "claimed",
        }[ControlStatus(self.after)]


@dataclass(frozen=True)
class PeriodChange:
    """District counts at both ends of a period, their difference, and every change between."""

    start: StatusCounts
    end: StatusCounts
    changes: list[Change]

    @property
    def delta(self) -> dict[str, int]:
        """Return end minus start, per status."""
        return {s: self.end.by_status[s] - self.start.by_status[s] for s in STATUS_ORDER}

    @property
    def by_kind(self) -> dict[str, int]:
        """Return how many changes of each kind the period saw (a fall and its recapture: 2)."""
        counter = Counter(c.kind for c in self.changes)
        return {k: counter.get(k, 0) for k in ("fell", "recaptured", "contested", "claimed")} | {
            "recorded": counter.get("recorded", 0)
        }


def district_change(conflict: Conflict, start: dt.date, end: dt.date) -> PeriodChange:
    """Return the district counts on `start` and `end` and every change of status in between."""
    if end < start:
        start, end = end, start
    before = status_on(conflict, start)
    current = {unit_id: s.status for unit_id, s in before.items()}
    changes: list[Change] = []
    records = (
        verified_records(conflict)
        .filter(unit_id__in=list(current), since__gt=start, since__lte=end)
        .order_by("since", "pk")
        .values_list("pk", "unit_id", "status", "since")
    )
    for pk, unit_id, status, since in records:
        if current[unit_id] != status:
            changes.append(Change(unit_id, since, current[unit_id], status, pk))
            current[unit_id] = status
    after = status_on(conflict, end)
    return PeriodChange(start=counts_of(before, start), end=counts_of(after, end), changes=changes)


# -- provinces ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceRollup:
    """A province's districts by status on a date."""

    province_id: int
    name: str
    code: str
    districts: int
    by_status: dict[str, int]

    @property
    def sentence(self) -> str:
        """Return "Badakhshan: 28 districts, of which 26 insurgent-controlled, 2 unknown"."""
        parts = [f"{n} {STATUS_LABELS[s]}" for s, n in self.by_status.items() if n]
        if self.by_status.get(UNKNOWN) == self.districts:
            return f"{self.name}: {self.districts} districts, none with a verified record"
        return f"{self.name}: {self.districts} districts, of which {', '.join(parts)}"


def province_rollup(conflict: Conflict, on: dt.date) -> list[ProvinceRollup]:
    """Return, per province of the conflict's map, its districts by status on a date."""
    statuses = status_on(conflict, on)
    parents = dict(conflict_units(conflict).values_list("pk", "parent_id"))
    grouped: dict[int, Counter[str]] = defaultdict(Counter)
    for unit_id, status in statuses.items():
        grouped[parents[unit_id]][status.status] += 1
    provinces = conflict_units(conflict, level=AdminUnit.Level.PROVINCE).order_by("name")
    return [
        ProvinceRollup(
            province_id=p.pk,
            name=p.name,
            code=p.code,
            districts=sum(grouped[p.pk].values()),
            by_status=_ordered(grouped[p.pk]),
        )
        for p in provinces
    ]


# -- international borders -------------------------------------------------------------------------


@dataclass(frozen=True)
class BorderShare:
    """One international border on a date: its length and the km held under each status."""

    country: str
    districts: int
    # Tenths of a km, so that the parts add up to the whole exactly.
    total_dm: int
    by_status_dm: dict[str, int]

    @property
    def name(self) -> str:
        """Return the neighbour's English name (its ISO3 code if it has none here)."""
        return COUNTRY_NAMES.get(self.country, self.country)

    @property
    def total_km(self) -> float:
        """Return the border's length in km."""
        return self.total_dm / 10

    @property
    def by_status_km(self) -> dict[str, float]:
        """Return the km held under each status."""
        return {s: n / 10 for s, n in self.by_status_dm.items()}

    def share(self, status: str) -> float:
        """Return the fraction (0..1) of the border held under `status`."""
        return self.by_status_dm.get(status, 0) / self.total_dm if self.total_dm else 0.0

    def sentence(self, status: str = ControlStatus.INSURGENT) -> str:
        """Return "Tajikistan: 1,234.5 of 1,353.1 km (91%) insurgent-controlled"."""
        km = self.by_status_dm.get(status, 0) / 10
        return (
            f"{self.name}: {km:,.1f} of {self.total_km:,.1f} km ({self.share(status):.0%}) "
            f"{STATUS_LABELS[status]}"
        )


def border_segments(conflict: Conflict) -> list[tuple[int, str, int]]:
    """Return (unit id, country, tenths of km) for every border segment of the conflict's map."""
    rows = BorderSegment.objects.filter(unit__boundary_set_id=conflict.boundary_set_id)
    return [
        (unit_id, country, round(length * 10))
        for unit_id, country, length in rows.values_list("unit_id", "country", "length_km")
    ]


def border_shares(
    conflict: Conflict,
    on: dt.date,
    *,
    statuses: dict[int, UnitStatus] | None = None,
    segments: list[tuple[int, str, int]] | None = None,
) -> list[BorderShare]:
    """Return each international border's km by the status of the districts along it, on a date."""
    segments = border_segments(conflict) if segments is None else segments
    if statuses is None:
        statuses = status_on(conflict, on, units={unit_id for unit_id, _, _ in segments})
    totals: Counter[str] = Counter()
    units: dict[str, set[int]] = defaultdict(set)
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    for unit_id, country, dm in segments:
        status = statuses.get(unit_id, UnitStatus(unit_id=unit_id)).status
        totals[country] += dm
        parts[country][status] += dm
        units[country].add(unit_id)
    return [
        BorderShare(
            country=country,
            districts=len(units[country]),
            total_dm=totals[country],
            by_status_dm=_ordered(parts[country]),
        )
        for country in sorted(totals, key=lambda c: -totals[c])
    ]


# -- one unit -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One verified record in a unit's timeline, with the status it replaced."""

    record: ControlRecord
    before: str
    evidence: list[Any] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Return what the record did: recorded, fell, recaptured, contested, claimed, confirmed."""
        if self.before == self.record.status:
            return "confirmed"
        return Change(
            self.record.unit_id, self.record.since, self.before, self.record.status, self.record.pk
        ).kind


def unit_history(
    conflict: Conflict, unit: AdminUnit, *, records: QuerySet[ControlRecord] | None = None
) -> list[HistoryEntry]:
    """Return a unit's control records (verified ones by default), oldest first, with evidence."""
    base = verified_records(conflict) if records is None else records
    rows = (
        base.filter(unit=unit)
        .select_related("controlling_side")
        .prefetch_related("evidence")
        .order_by("since", "pk")
    )
    entries: list[HistoryEntry] = []
    before = UNKNOWN
    for record in rows:
        evidence = [e for e in record.evidence.all() if e.deleted_at is None]
        entries.append(HistoryEntry(record=record, before=before, evidence=evidence))
        before = record.status
    return entries


def unit_lookup(conflict: Conflict, code: str) -> AdminUnit | None:
    """Return the unit of the conflict's map with this code, or None."""
    return (
        AdminUnit.objects.filter(boundary_set_id=conflict.boundary_set_id, code=code)
        .select_related("parent")
        .defer("geometry", "parent__geometry")
        .first()
    )


def default_date(conflict: Conflict) -> dt.date:
    """Return the date a map of the conflict shows first: today, or the end of its period."""
    today = dt.date.today()
    return min(today, conflict.period_end) if conflict.period_end else today


def period_of(conflict: Conflict) -> tuple[dt.date, dt.date]:
    """Return the dates a map's slider spans: the conflict's period, widened to its records."""
    end = default_date(conflict)
    first = verified_records(conflict).order_by("since").values_list("since", flat=True).first()
    start = conflict.period_start or first or end
    if first is not None:
        start = min(start, first)
    return min(start, end), end


def border_shares_over_time(
    conflict: Conflict, dates: list[dt.date]
) -> list[tuple[dt.date, list[BorderShare]]]:
    """Return the border shares on each of several dates (one status query per date)."""
    segments = border_segments(conflict)
    units = {unit_id for unit_id, _, _ in segments}
    return [
        (
            on,
            border_shares(
                conflict, on, statuses=status_on(conflict, on, units=units), segments=segments
            ),
        )
        for on in dates
    ]


def frame_dates(start: dt.date, end: dt.date, *, most: int = 26) -> list[dt.date]:
    """Return at most `most` evenly spaced dates from start to end, both included."""
    days = (end - start).days
    if days <= 0:
        return [end]
    step = max(1, -(-days // (most - 1)))
    dates = [start + dt.timedelta(days=n) for n in range(0, days, step)]
    return [*dates, end]
