"""API for honest counting: saved tallies (now or as of a moment), timelines, claims, estimates.

Reads are open to anyone and show public tallies and verified claims only. Saving or changing a
tally is for reviewers and admins; recording a claim for anyone signed in (it then goes through
review). A count never includes a claim or an estimate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from attrition.accounts.models import Scope
from attrition.api.auth import ANYONE, require_scope
from attrition.catalog.models import Conflict
from attrition.claims.models import Claim
from attrition.claims.selectors import ClaimBeside, claim_beside, claims_beside
from attrition.claims.services import claim_create
from attrition.counting import exports, selectors
from attrition.counting.estimates import tally_estimate
from attrition.counting.services import tally_create, tally_update
from attrition.counting.timeline import timeline
from attrition.errors import NotFound
from attrition.losses.models import Tally

router = Router(tags=["counting"])
VIA = "api"


class LineOut(Schema):
    key: str
    label: str
    count: int


class TallyOut(Schema):
    conflict: str
    slug: str
    name: str
    description: str
    rule: dict[str, Any] = Field(description="The counting rule as it stood at `as_of`.")
    rule_text: str
    total: int
    as_of: str = Field(
        description="The data version counted (UTC, to the microsecond); pass it back as is to "
        "reproduce the count."
    )
    pinned: bool = Field(description="Whether the caller asked for this moment.")
    sentence: str = Field(description='The citable "at least N" sentence.')
    permalink: str
    by_fate: list[LineOut]
    by_side: list[LineOut]
    by_category: list[LineOut]


class TallyIn(Schema):
    conflict: str = Field(description="The conflict's slug.")
    name: str
    slug: str = ""
    description: str = ""
    rule: dict[str, Any] = Field(default_factory=dict)
    is_public: bool = True
    reason: str = ""


class TallyPatch(Schema):
    name: str | None = None
    description: str | None = None
    rule: dict[str, Any] | None = None
    is_public: bool | None = None
    reason: str = ""


class PointOut(Schema):
    start: dt.date
    count: int
    cumulative: int
    late: int
    incomplete: bool


class TimelineOut(Schema):
    conflict: str
    tally: str
    basis: str
    period: str
    as_of: str
    total: int
    undated: int
    late_days: int
    lag_days_p90: int | None = Field(description="9 in 10 items were posted within this lag.")
    incomplete_from: dt.date | None = Field(description="Periods from here on are filling in.")
    points: list[PointOut]


class ClaimOut(Schema):
    id: int
    conflict: str
    claimant: str
    claimed_on: dt.date
    scope: str
    scope_rule: dict[str, Any] | None
    kind: str
    number: int
    number_high: int | None
    figure: str
    source_url: str
    quote: str
    evidence: int | None
    status: str
    documented_then: int | None = Field(description="Documented for the scope on the claim's day.")
    documented_now: int | None = Field(description="Documented for the scope now; never adds it.")


class ClaimIn(Schema):
    conflict: str
    claimant: str
    claimed_on: dt.date
    scope: str
    number: int = Field(ge=0)
    kind: str = "exact"
    number_high: int | None = None
    scope_rule: dict[str, Any] | None = None
    source_url: str = ""
    quote: str = ""
    status: str = "draft"


class CaveatOut(Schema):
    code: str
    message: str


class EstimateOut(Schema):
    method: str
    lists: list[str]
    list_sizes: dict[str, int]
    observed: int
    multiply_listed: int
    total: float | None
    low: float | None
    high: float | None
    level: float
    model: str
    supported_models: list[str]
    refused: bool
    refusals: list[CaveatOut]
    warnings: list[CaveatOut]


class StratumOut(Schema):
    key: str
    label: str
    documented: int
    estimate: EstimateOut


class EstimateReportOut(Schema):
    conflict: str
    tally: str
    kind: str
    as_of: str | None = Field(
        description="The moment the ledger was read as of; pass it back to reproduce the estimate."
    )
    pinned: bool = Field(description="Whether the caller asked for this moment.")
    documented: int = Field(description="The documented count; the estimate is never added to it.")
    estimate: EstimateOut
    notes: list[CaveatOut]
    strata: list[StratumOut]
    stratified_total: float | None
    stratified_low: float | None
    stratified_high: float | None
    stratified_refusal: str


def _tally_out(report: selectors.TallyReport) -> TallyOut:
    return TallyOut(**exports.tally_data(report))


def _claim_out(row: ClaimBeside) -> ClaimOut:
    return ClaimOut(**exports.claim_data(row))


def _conflict(slug: str) -> Conflict:
    found = Conflict.objects.filter(slug=slug, is_public=True).first()
    if found is None:
        raise NotFound(f"no public conflict {slug!r}")
    return found


def _editable(conflict: str, slug: str) -> Tally:
    found = Tally.objects.filter(conflict__slug=conflict, slug=slug).select_related("conflict")
    tally = found.first()
    if tally is None:
        raise NotFound(f"no tally {conflict}/{slug}")
    return tally


@router.get("/tallies", response=list[TallyOut], auth=ANYONE, summary="The public saved tallies")
def tally_list(request: HttpRequest, conflict: str | None = None) -> list[TallyOut]:
    """Return every public tally (of one conflict if given), counted on today's data version."""
    where = _conflict(conflict) if conflict else None
    return [
        _tally_out(selectors.tally_report(tally=t))
        for t in selectors.tallies_public(conflict=where)
    ]


@router.get(
    "/tallies/{conflict}/{slug}", response=TallyOut, auth=ANYONE, summary="One tally, counted"
)
def tally_one(request: HttpRequest, conflict: str, slug: str, as_of: str | None = None) -> TallyOut:
    """Return a tally's count and breakdown, now or as the ledger stood at `as_of`."""
    tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
    moment = selectors.as_of_parse(as_of)
    return _tally_out(selectors.tally_report(tally=tally, as_of=moment))


def _timeline_data(
    conflict: str, slug: str, basis: str, period: str, as_of: str | None
) -> dict[str, Any]:
    tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
    moment = selectors.as_of_parse(as_of)
    rule = selectors.tally_rule_at(tally=tally, as_of=moment)
    line = timeline(conflict=tally.conflict, rule=rule, basis=basis, period=period, as_of=moment)
    pinned = moment or selectors.pinned_moment(tally=tally)
    return exports.timeline_data(line, conflict=tally.conflict, tally=tally, as_of=pinned)


@router.get(
    "/tallies/{conflict}/{slug}/timeline",
    response=TimelineOut,
    auth=ANYONE,
    summary="A tally over time",
)
def tally_timeline(
    request: HttpRequest,
    conflict: str,
    slug: str,
    basis: str = "first_seen",
    period: str = "month",
    as_of: str | None = None,
) -> TimelineOut:
    """Return a tally's counts per day, week or month, by first-seen or posted date."""
    return TimelineOut(**_timeline_data(conflict, slug, basis, period, as_of))


@router.get(
    "/tallies/{conflict}/{slug}/export",
    response={200: None},
    auth=ANYONE,
    summary="A tally as a CSV or JSON file",
)
def tally_export(
    request: HttpRequest, conflict: str, slug: str, format: str = "csv", as_of: str | None = None
) -> HttpResponse:
    """Return a tally's count and breakdown (with the data version counted) as a file."""
    tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
    fmt = exports.export_format(format)
    data = exports.tally_data(
        selectors.tally_report(tally=tally, as_of=selectors.as_of_parse(as_of))
    )
    text = exports.export_text(data, fmt, exports.tally_csv)
    return exports.export_response(text, fmt=fmt, filename=f"tally-{conflict}-{slug}")


@router.get(
    "/tallies/{conflict}/{slug}/timeline/export",
    response={200: None},
    auth=ANYONE,
    summary="A tally's timeline as a CSV or JSON file",
)
def tally_timeline_export(
    request: HttpRequest,
    conflict: str,
    slug: str,
    format: str = "csv",
    basis: str = "first_seen",
    period: str = "month",
    as_of: str | None = None,
) -> HttpResponse:
    """Return a tally's counts per period (with the data version counted) as a file."""
    fmt = exports.export_format(format)
    data = _timeline_data(conflict, slug, basis, period, as_of)
    text = exports.export_text(data, fmt, exports.timeline_csv)
    return exports.export_response(text, fmt=fmt, filename=f"timeline-{conflict}-{slug}")


@router.post("/tallies", response={201: TallyOut}, summary="Save a tally (reviewers)")
def tally_new(request: HttpRequest, payload: TallyIn) -> Status[TallyOut]:
    """Save a named counting rule; reviewers and admins only."""
    require_scope(request, Scope.WRITE)
    tally = tally_create(
        conflict=_conflict(payload.conflict),
        name=payload.name,
        slug=payload.slug,
        description=payload.description,
        rule=payload.rule,
        is_public=payload.is_public,
        by=request.user,
        via=VIA,
        reason=payload.reason,
    )
    return Status(201, _tally_out(selectors.tally_report(tally=tally)))


@router.patch("/tallies/{conflict}/{slug}", response=TallyOut, summary="Change a tally")
def tally_edit(request: HttpRequest, conflict: str, slug: str, payload: TallyPatch) -> TallyOut:
    """Change a tally; permalinks cited before keep their number (they count with the old rule)."""
    require_scope(request, Scope.WRITE)
    fields = payload.model_dump(exclude_none=True, exclude={"reason"})
    tally = tally_update(
        tally=_editable(conflict, slug), by=request.user, via=VIA, reason=payload.reason, **fields
    )
    return _tally_out(selectors.tally_report(tally=tally))


@router.get("/claims", response=list[ClaimOut], auth=ANYONE, summary="Claims beside counts")
def claim_list(request: HttpRequest, conflict: str | None = None) -> list[ClaimOut]:
    """Return verified claims, each beside the documented count of its scope (never added in)."""
    where = _conflict(conflict) if conflict else None
    return [_claim_out(row) for row in claims_beside(conflict=where)]


@router.get(
    "/claims/export",
    response={200: None},
    auth=ANYONE,
    summary="Claims beside counts as a CSV or JSON file",
)
def claim_export(
    request: HttpRequest, format: str = "csv", conflict: str | None = None
) -> HttpResponse:
    """Return verified claims, each beside the documented count of its scope, as a file."""
    fmt = exports.export_format(format)
    where = _conflict(conflict) if conflict else None
    data = [exports.claim_data(row) for row in claims_beside(conflict=where)]
    text = exports.export_text(data, fmt, exports.claims_csv)
    return exports.export_response(text, fmt=fmt, filename=f"claims-{conflict or 'all'}")


@router.post("/claims", response={201: ClaimOut}, summary="Record a claim")
def claim_new(request: HttpRequest, payload: ClaimIn) -> Status[ClaimOut]:
    """Record a claimed figure as a draft or submitted for review."""
    require_scope(request, Scope.WRITE)
    claim = claim_create(
        conflict=_conflict(payload.conflict),
        claimant=payload.claimant,
        claimed_on=payload.claimed_on,
        scope=payload.scope,
        number=payload.number,
        kind=payload.kind,
        number_high=payload.number_high,
        scope_rule=payload.scope_rule,
        source_url=payload.source_url,
        quote=payload.quote,
        status=payload.status,
        by=request.user,
        via=VIA,
    )
    return Status(201, _claim_out(claim_beside(Claim.objects.get(pk=claim.pk))))


def _estimate_data(
    conflict: str, slug: str, lists: str, max_lists: int, stratify: bool, as_of: str | None
) -> dict[str, Any]:
    tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
    moment = selectors.as_of_parse(as_of)
    report = tally_estimate(
        tally=tally, kind=lists, max_lists=max_lists, stratify=stratify, as_of=moment
    )
    return exports.estimate_report_data(report, conflict=tally.conflict, tally=tally)


@router.get(
    "/estimates/{conflict}/{slug}",
    response=EstimateReportOut,
    auth=ANYONE,
    summary="Estimate of a tally's undocumented losses",
)
def estimate_one(
    request: HttpRequest,
    conflict: str,
    slug: str,
    lists: str = "platform",
    max_lists: int = 4,
    stratify: bool = False,
    as_of: str | None = None,
) -> EstimateReportOut:
    """Estimate the tally's total, documented or not, from the overlap of its sources."""
    return EstimateReportOut(**_estimate_data(conflict, slug, lists, max_lists, stratify, as_of))


@router.get(
    "/estimates/{conflict}/{slug}/export",
    response={200: None},
    auth=ANYONE,
    summary="An estimate with its caveats as a CSV or JSON file",
)
def estimate_export(
    request: HttpRequest,
    conflict: str,
    slug: str,
    format: str = "csv",
    lists: str = "platform",
    max_lists: int = 4,
    stratify: bool = False,
    as_of: str | None = None,
) -> HttpResponse:
    """Return an estimate, its caveats and the moment it was made as of, as a file."""
    fmt = exports.export_format(format)
    data = _estimate_data(conflict, slug, lists, max_lists, stratify, as_of)
    text = exports.export_text(data, fmt, exports.estimate_csv)
    return exports.export_response(text, fmt=fmt, filename=f"estimate-{conflict}-{slug}")
