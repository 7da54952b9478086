"""API for territorial control: a conflict's map on a date (GeoJSON, CSV), counts, borders, and
one unit's history. Open to anyone; only verified control records count."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from ninja import Router, Schema
from pydantic import Field

from attrition.api.auth import ANYONE
from attrition.api.http import file_response
from attrition.catalog.models import Conflict
from attrition.spreadsheet import cell_safe
from attrition.territory import selectors
from attrition.territory.geo import control_geojson, map_features, status_properties

router = Router(tags=["territory"])
DATE_HELP = "YYYY-MM-DD; default: today, or the last day of the conflict's period."


def _conflict(slug: str) -> Conflict:
    found = Conflict.objects.filter(slug=slug, is_public=True, boundary_set__isnull=False).first()
    if found is None:
        raise Http404(f"no public conflict {slug!r} with a map")
    return found


def _compressed(request: HttpRequest, body: bytes, content_type: str) -> HttpResponse:
    """Return a response, gzipped when the client accepts it (maps are large, and repetitive)."""
    response = HttpResponse(body, content_type=content_type)
    patch_vary_headers(response, ("Accept-Encoding",))
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.content = compress_string(body)
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(response.content))
    return response


class StatusCountsOut(Schema):
    date: dt.date
    total: int
    by_status: dict[str, int] = Field(
        description="government, contested, insurgent, claimed, unknown"
    )
    stale: int = Field(description="Units whose last confirmation is over 30 days old on the date.")


class ChangeOut(Schema):
    unit: str
    date: dt.date
    before: str
    after: str
    kind: str = Field(description="recorded, fell, recaptured, contested or claimed")


class ProvinceOut(Schema):
    code: str
    name: str
    districts: int
    by_status: dict[str, int]
    sentence: str


class SummaryOut(Schema):
    conflict: str
    date: dt.date
    districts: StatusCountsOut
    since: StatusCountsOut | None = None
    delta: dict[str, int] | None = None
    changes: list[ChangeOut] = Field(default_factory=list)
    provinces: list[ProvinceOut]


class BorderOut(Schema):
    country: str
    name: str
    districts: int
    total_km: float
    by_status_km: dict[str, float]
    share: dict[str, float] = Field(description="Fraction of the border's length per status.")
    sentence: str


class BordersOut(Schema):
    conflict: str
    date: dt.date
    borders: list[BorderOut]


class EvidenceOut(Schema):
    id: int
    url: str
    title: str
    platform: str


class HistoryOut(Schema):
    id: int
    status: str
    kind: str = Field(description="recorded, fell, recaptured, contested, claimed or confirmed")
    since: dt.date
    last_confirmed: dt.date | None
    side: str | None
    confidence: str
    note: str
    evidence: list[EvidenceOut]


class UnitHistoryOut(Schema):
    conflict: str
    code: str
    name: str
    province: str
    history: list[HistoryOut]


def _counts(counts: selectors.StatusCounts) -> StatusCountsOut:
    return StatusCountsOut(
        date=counts.on, total=counts.total, by_status=counts.by_status, stale=counts.stale
    )


@router.get(
    "/{conflict}/control.geojson",
    auth=ANYONE,
    summary="Control of every district on a date, as GeoJSON",
    openapi_extra=file_response("application/geo+json", schema={"type": "object"}),
)
def control_map(request: HttpRequest, conflict: str, date: dt.date | None = None) -> HttpResponse:
    """Return a FeatureCollection of the districts (simplified outlines) with their status."""
    found = _conflict(conflict)
    body = json.dumps(
        control_geojson(found, date or selectors.default_date(found)), separators=(",", ":")
    )
    return _compressed(request, body.encode(), "application/geo+json")


CSV_COLUMNS = ("code", "name", "province", "status", "since", "confirmed", "age_days", "stale",
               "assessed", "side")  # fmt: skip


@router.get(
    "/{conflict}/control.csv",
    auth=ANYONE,
    summary="Control of every district on a date, as CSV",
    openapi_extra=file_response("text/csv"),
)
def control_csv(request: HttpRequest, conflict: str, date: dt.date | None = None) -> HttpResponse:
    """Return one CSV row per district: its status on the date and how old its confirmation is."""
    found = _conflict(conflict)
    on = date or selectors.default_date(found)
    statuses = selectors.status_on(found, on)
    sides = dict(found.sides.values_list("pk", "slug"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for feature in map_features(found.boundary_set_id or 0):
        props = feature["properties"]
        status = statuses.get(props["id"], selectors.UnitStatus(unit_id=props["id"]))
        values = status_properties(status)
        cells = [
            props["code"],
            props["name"],
            props["province"],
            values["status"],
            values["since"],
            values["confirmed"],
            values["age_days"],
            values["stale"],
            values["assessed"] or "",
            sides.get(values["side"], ""),
        ]
        writer.writerow([cell_safe(cell) for cell in cells])
    response = _compressed(request, out.getvalue().encode(), "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-control-{on}.csv"'
    return response


@router.get("/{conflict}/summary", response=SummaryOut, auth=ANYONE, summary="Counts on a date")
def summary(
    request: HttpRequest, conflict: str, date: dt.date | None = None, since: dt.date | None = None
) -> SummaryOut:
    """Return district counts by status on a date, province roll-ups and, with `since`, the
    change over the period with every fall and recapture."""
    found = _conflict(conflict)
    on = date or selectors.default_date(found)
    codes = dict(selectors.conflict_units(found).values_list("pk", "code"))
    result = SummaryOut(
        conflict=found.slug,
        date=on,
        districts=_counts(selectors.district_counts(found, on)),
        provinces=[
            ProvinceOut(
                code=p.code,
                name=p.name,
                districts=p.districts,
                by_status=p.by_status,
                sentence=p.sentence,
            )
            for p in selectors.province_rollup(found, on)
        ],
    )
    if since is not None:
        change = selectors.district_change(found, since, on)
        result.since = _counts(change.start)
        result.delta = change.delta
        result.changes = [
            ChangeOut(unit=codes[c.unit_id], date=c.on, before=c.before, after=c.after, kind=c.kind)
            for c in change.changes
        ]
    return result


@router.get("/{conflict}/borders", response=BordersOut, auth=ANYONE, summary="Border shares")
def borders(request: HttpRequest, conflict: str, date: dt.date | None = None) -> BordersOut:
    """Return each international border's length held under each status on a date."""
    found = _conflict(conflict)
    on = date or selectors.default_date(found)
    return BordersOut(
        conflict=found.slug,
        date=on,
        borders=[
            BorderOut(
                country=b.country,
                name=b.name,
                districts=b.districts,
                total_km=b.total_km,
                by_status_km=b.by_status_km,
                share={s: round(b.share(s), 4) for s in b.by_status_dm},
                sentence=b.sentence(),
            )
            for b in selectors.border_shares(found, on)
        ],
    )


@router.get(
    "/{conflict}/units/{code}/history",
    response=UnitHistoryOut,
    auth=ANYONE,
    summary="One unit's control history",
)
def unit_history(request: HttpRequest, conflict: str, code: str) -> UnitHistoryOut:
    """Return a unit's verified control records, oldest first, each with its evidence."""
    found = _conflict(conflict)
    unit = selectors.unit_lookup(found, code)
    if unit is None:
        raise Http404(f"no unit {code!r} on {found.name}'s map")
    return UnitHistoryOut(
        conflict=found.slug,
        code=unit.code,
        name=unit.name,
        province=unit.parent.name if unit.parent else "",
        history=[
            HistoryOut(
                id=e.record.pk,
                status=e.record.status,
                kind=e.kind,
                since=e.record.since,
                last_confirmed=e.record.last_confirmed,
                side=e.record.controlling_side.slug if e.record.controlling_side else None,
                confidence=e.record.confidence,
                note=e.record.note,
                evidence=[
                    EvidenceOut(id=ev.pk, url=ev.url, title=ev.title, platform=ev.platform)
                    for ev in e.evidence
                ],
            )
            for e in selectors.unit_history(found, unit)
        ],
    )
