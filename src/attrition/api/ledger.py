"""API reads of the published ledger: conflicts and their sides, the taxonomy, the filtered list
of losses (cursor pages), a loss's evidence and captures, grouped counts, and filtered exports.

Open to anyone and the same for everyone: only verified losses of public conflicts. The filter is
losses.selectors.LossFilter, the one the search page and the downloads use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date
from ninja import Query, Router, Schema
from pydantic import Field

from attrition.api.auth import ANYONE
from attrition.api.http import file_response
from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.errors import InvalidInput
from attrition.evidence.visibility import public_media
from attrition.losses.exports import CONTENT_TYPES, EXPORT_FORMATS, export_stream
from attrition.losses.selectors import (
    DEFAULT_SORT,
    PERIODS,
    SORTS,
    STAT_DIMENSIONS,
    LossFilter,
    ledger_changed_at,
    losses_filter,
    losses_stats,
    page_ids,
    public_ledger,
    sort_order,
)

MAX_LIMIT = 500
DEFAULT_LIMIT = 50

conflicts = Router(tags=["ledger"])
categories = Router(tags=["ledger"])
models = Router(tags=["ledger"])
stats = Router(tags=["ledger"])
loss_reads = Router(tags=["ledger"])
exports = Router(tags=["open data"])


def last_modified(response: HttpResponse) -> None:
    """Stamp a read with when the ledger last changed (ETags are added by api.http)."""
    changed = ledger_changed_at()
    if changed is not None:
        response["Last-Modified"] = http_date(changed.timestamp())


class SideOut(Schema):
    id: int
    slug: str
    name: str
    short_name: str
    colour: str


class ConflictOut(Schema):
    slug: str
    name: str
    description: str
    period_start: dt.date | None
    period_end: dt.date | None
    extent: list[float] | None = Field(description="[west, south, east, north], WGS84.")
    sides: list[SideOut]
    url: str = Field(description="The conflict's page on the site.")


class CategoryOut(Schema):
    slug: str
    name: str
    description: str
    order: int


class ModelOut(Schema):
    id: int
    slug: str
    name: str
    category: str
    country_of_production: str
    aliases: list[str]
    url: str


def _side_out(side: Side) -> SideOut:
    return SideOut(
        id=side.pk, slug=side.slug, name=side.name, short_name=side.short_name, colour=side.colour
    )


def _conflict_out(conflict: Conflict) -> ConflictOut:
    return ConflictOut(
        slug=conflict.slug,
        name=conflict.name,
        description=conflict.description,
        period_start=conflict.period_start,
        period_end=conflict.period_end,
        extent=conflict.extent if isinstance(conflict.extent, list) else None,
        sides=[_side_out(s) for s in conflict.sides.all()],
        url=f"/c/{conflict.slug}/",
    )


def _model_out(model: EquipmentModel) -> ModelOut:
    return ModelOut(
        id=model.pk,
        slug=model.slug,
        name=model.name,
        category=model.category.slug,
        country_of_production=model.country_of_production,
        aliases=[a.alias for a in model.aliases.all()],
        url=f"/models/{model.slug}/",
    )


def _public_conflict(slug: str) -> Conflict:
    found = Conflict.objects.filter(slug=slug, is_public=True).prefetch_related("sides").first()
    if found is None:
        raise Http404(f"no public conflict {slug!r}")
    return found


@conflicts.get("", response=list[ConflictOut], auth=ANYONE, summary="Public conflicts")
def conflict_list(request: HttpRequest, response: HttpResponse) -> list[ConflictOut]:
    """Return every public conflict with its sides."""
    last_modified(response)
    found = Conflict.objects.filter(is_public=True).prefetch_related("sides")
    return [_conflict_out(c) for c in found]


@conflicts.get("/{slug}", response=ConflictOut, auth=ANYONE, summary="One conflict")
def conflict_get(request: HttpRequest, slug: str) -> ConflictOut:
    """Return a public conflict with its sides."""
    return _conflict_out(_public_conflict(slug))


@conflicts.get("/{slug}/sides", response=list[SideOut], auth=ANYONE, summary="A conflict's sides")
def conflict_sides(request: HttpRequest, slug: str) -> list[SideOut]:
    """Return the sides of a public conflict, in their order."""
    return [_side_out(s) for s in _public_conflict(slug).sides.all()]


@categories.get("", response=list[CategoryOut], auth=ANYONE, summary="Equipment categories")
def category_list(request: HttpRequest) -> list[CategoryOut]:
    """Return the equipment categories in the order trackers list them."""
    return [
        CategoryOut(slug=c.slug, name=c.name, description=c.description, order=c.order)
        for c in Category.objects.all()
    ]


@models.get("", response=list[ModelOut], auth=ANYONE, summary="Equipment models")
def model_list(request: HttpRequest, category: str = "") -> list[ModelOut]:
    """Return the equipment models, optionally of one category (its slug)."""
    found = EquipmentModel.objects.select_related("category").prefetch_related("aliases")
    if category:
        if not Category.objects.filter(slug=category).exists():
            raise InvalidInput(f"unknown category: {category}")
        found = found.filter(category__slug=category)
    return [_model_out(m) for m in found]


@models.get("/{slug}", response=ModelOut, auth=ANYONE, summary="One equipment model")
def model_get(request: HttpRequest, slug: str) -> ModelOut:
    """Return one equipment model with its aliases."""
    found = (
        EquipmentModel.objects.select_related("category")
        .prefetch_related("aliases")
        .filter(slug=slug)
        .first()
    )
    if found is None:
        raise Http404(f"no model {slug!r}")
    return _model_out(found)


# --- The list of losses (mounted by api.losses at GET /v1/losses) ------------------------------


class PageQuery(Schema):
    sort: str = Field(default=DEFAULT_SORT, description=f"One of {', '.join(SORTS)}.")
    cursor: str = Field(default="", description="The `next_cursor` of the previous page.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")


def loss_page_query(request: HttpRequest, filters: LossFilter, page: PageQuery) -> dict[str, Any]:
    """Return one page of the filtered public ledger: {"items": [loss ids], "next_cursor", ...}."""
    ids, next_cursor = page_ids(
        queryset=losses_filter(filters=filters, listing=True),
        sort=page.sort,
        cursor=page.cursor,
        limit=page.limit,
    )
    next_url = None
    if next_cursor:
        query = [*filters.query_pairs(), ("sort", page.sort), ("limit", str(page.limit))]
        next_url = f"{request.path}?{urlencode([*query, ('cursor', next_cursor)])}"
    return {
        "items": ids,
        "next_cursor": next_cursor,
        "next": next_url,
        "sort": page.sort,
        "limit": page.limit,
    }


# --- A loss's evidence and captures ------------------------------------------------------------


class CaptureOut(Schema):
    sha256: str
    kind: str
    mime: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_s: float | None
    thumb_url: str = Field(description="Empty when withheld (personal data, no redacted copy).")
    web_url: str
    graphic: bool
    withheld: bool


class EvidenceOut(Schema):
    id: int
    url: str
    platform: str
    channel: str
    title: str
    posted_at: dt.datetime | None
    source_status: str = Field(description="unknown, alive, gone or changed.")
    source_checked_at: dt.datetime | None
    item_number: int | None
    t_start_ms: int | None
    t_end_ms: int | None
    captures: list[CaptureOut]


@loss_reads.get(
    "/{loss_id}/evidence",
    response=list[EvidenceOut],
    auth=ANYONE,
    summary="A loss's evidence and its archived captures",
)
def loss_evidence(request: HttpRequest, loss_id: int) -> list[EvidenceOut]:
    """Return the evidence of a public loss, each with the captures the public may see."""
    loss = public_ledger().filter(pk=loss_id).first()
    if loss is None:
        raise Http404(f"no public loss #{loss_id}")
    depictions = list(
        loss.depictions.filter(deleted_at__isnull=True, evidence__deleted_at__isnull=True)
        .select_related("evidence", "capture")
        .order_by("evidence__posted_at", "evidence_id", "pk")
    )
    media = public_media(depictions)
    out = []
    for depiction in depictions:
        ev = depiction.evidence
        captures = [
            CaptureOut(
                sha256=m.capture.sha256,
                kind=m.capture.kind,
                mime=m.capture.mime,
                size_bytes=m.capture.size_bytes,
                width=m.capture.width,
                height=m.capture.height,
                duration_s=m.capture.duration_s,
                thumb_url="" if m.withheld else m.thumb_url,
                web_url="" if m.withheld else m.web_url,
                graphic=m.graphic,
                withheld=m.withheld,
            )
            for m in media.get(depiction.pk, [])
        ]
        out.append(
            EvidenceOut(
                id=ev.pk,
                url=ev.url,
                platform=ev.platform,
                channel=ev.channel,
                title=ev.title,
                posted_at=ev.posted_at,
                source_status=ev.source_status,
                source_checked_at=ev.source_checked_at,
                item_number=depiction.item_number,
                t_start_ms=depiction.t_start_ms,
                t_end_ms=depiction.t_end_ms,
                captures=captures,
            )
        )
    return out


# --- Statistics --------------------------------------------------------------------------------


class StatsQuery(Schema):
    by: list[str] = Field(
        default_factory=list,
        description=f"Group by any of {', '.join(STAT_DIMENSIONS)} (repeat the parameter).",
    )
    period: str = Field(default="month", description=f"One of {', '.join(PERIODS)}.")


class StatRowOut(Schema):
    key: dict[str, str | None] = Field(
        description="The group: a slug, code, fate or period start per dimension (null: unknown)."
    )
    count: int


class StatsOut(Schema):
    total: int
    by: list[str]
    period: str
    rows: list[StatRowOut]
    labels: dict[str, dict[str, str]] = Field(description="Names of the slugs and codes.")
    filters: dict[str, Any]


@stats.get("", response=StatsOut, auth=ANYONE, summary="Counts of losses, grouped")
def stats_get(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[LossFilter],
    query: Query[StatsQuery],
) -> StatsOut:
    """Count the filtered public losses, grouped by any of side, category, model, fate, period
    (day, week, month or year of first sighting), province and district."""
    last_modified(response)
    result = losses_stats(queryset=losses_filter(filters=filters), by=query.by, period=query.period)
    return StatsOut(
        total=result.total,
        by=result.by,
        period=result.period,
        rows=[StatRowOut(key=r.key, count=r.count) for r in result.rows],
        labels=result.labels,
        filters=filters.model_dump(mode="json", exclude_defaults=True),
    )


# --- Exports of a filtered list ----------------------------------------------------------------


@exports.get(
    "/losses.{fmt}",
    auth=ANYONE,
    summary="The filtered list as CSV, JSON or GeoJSON (streamed)",
    openapi_extra=file_response(
        *(kind.partition(";")[0] for kind in CONTENT_TYPES.values()), schema={}
    ),
)
def export_get(
    request: HttpRequest, fmt: str, filters: Query[LossFilter], sort: str = DEFAULT_SORT
) -> StreamingHttpResponse:
    """Stream every public loss the filter selects, in the list's order, as a file."""
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"no export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    queryset = losses_filter(filters=filters).order_by(*sort_order(sort))
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in export_stream(queryset=queryset, fmt=fmt)),
        content_type=CONTENT_TYPES[fmt],
    )
    response["Content-Disposition"] = f'attachment; filename="attrition-losses.{fmt}"'
    return response
