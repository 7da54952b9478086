"""API for the ledger's losses: read one, create, edit, and move it through review.

Readers see verified losses only; editors also see the records the review pages show them.
Every write is attributed to the caller (a session user or an API token's user) and versioned.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache, reduce
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import NinjaJSONEncoder, Status
from pydantic import Field

from attrition.accounts.models import Scope
from attrition.admin_base.roles import role_of
from attrition.api.auth import ANYONE, require_scope
from attrition.api.ledger import PageQuery, last_modified, loss_page_query
from attrition.catalog.models import Conflict, EquipmentModel, Side
from attrition.errors import Forbidden, InvalidInput
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.selectors import LossFilter
from attrition.losses.services import EDITABLE_FIELDS, loss_create, loss_merge, loss_update
from attrition.review import workflow
from attrition.review.selectors import losses_visible_to
from attrition.review.workflow import Action
from attrition.territory.models import AdminUnit

router = Router(tags=["losses"])
VIA = "api"
JSON = "application/json; charset=utf-8"


class FateOut(Schema):
    fate: str
    detail: str = ""
    date: str | None = None


class LossOut(Schema):
    id: int
    conflict: str
    side: int
    side_name: str
    model: int
    model_name: str
    category: str
    fate: str
    fate_history: list[FateOut]
    captured_by: int | None
    first_seen: dt.date | None
    first_seen_precision: str
    admin_unit: int | None
    lat: float | None
    lon: float | None
    place_precision: str
    place_text: str
    unit: str
    markings: str
    description: str
    tags: list[str]
    status: str
    status_reason: str
    merged_into: int | None
    revision: int = Field(description="Send it back with an edit: a stale one is refused (409).")
    created_at: dt.datetime
    updated_at: dt.datetime


class LossIn(Schema):
    conflict: str = Field(description="The conflict's slug.")
    side: int = Field(description="Id of the side that lost it.")
    model: int
    fates: list[str] = Field(min_length=1, description='In order, e.g. ["captured", "destroyed"].')
    status: str = Field(default=ReviewStatus.DRAFT, description="draft or submitted")
    captured_by: int | None = None
    first_seen: dt.date | None = None
    first_seen_precision: str = "day"
    admin_unit: int | None = None
    lat: float | None = None
    lon: float | None = None
    place_precision: str | None = None
    place_text: str = ""
    unit: str = ""
    markings: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    reason: str = ""


class LossPatch(Schema):
    revision: int = Field(description="The revision the edit was based on.")
    side: int | None = None
    model: int | None = None
    fates: list[str] | None = None
    captured_by: int | None = None
    first_seen: dt.date | None = None
    first_seen_precision: str | None = None
    admin_unit: int | None = None
    lat: float | None = None
    lon: float | None = None
    place_precision: str | None = None
    place_text: str | None = None
    unit: str | None = None
    markings: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    reason: str = ""


class ReviewIn(Schema):
    action: Action
    reason: str = ""
    revision: int | None = None


class MergeIn(Schema):
    into: int = Field(description="Id of the loss this one repeats.")
    reason: str = ""


# LossOut's fields, but tags, as the columns they come from: a single loss reads them from its
# instance, the list (loss_rows) as rows, written out as JSON directly: ~3x cheaper than model
# instances validated by pydantic (bench/publish.py). tests/api/test_ledger_api.py checks that a
# listed item equals the loss's own GET.
LOSS_COLUMNS = {
    "id": "id",
    "conflict": "conflict__slug",
    "side": "side_id",
    "side_name": "side__name",
    "model": "model_id",
    "model_name": "model__name",
    "category": "model__category__slug",
    "fate": "fate",
    "fate_history": "fate_history",
    "captured_by": "captured_by_id",
    "first_seen": "first_seen",
    "first_seen_precision": "first_seen_precision",
    "admin_unit": "admin_unit_id",
    "lat": "lat",
    "lon": "lon",
    "place_precision": "place_precision",
    "place_text": "place_text",
    "unit": "unit",
    "markings": "markings",
    "description": "description",
    "status": "status",
    "status_reason": "status_reason",
    "merged_into": "merged_into_id",
    "revision": "revision",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def loss_out(loss: Loss) -> LossOut:
    """Return a loss as the API shows it."""
    row = {name: reduce(getattr, path.split("__"), loss) for name, path in LOSS_COLUMNS.items()}
    return LossOut(**_finished(row, [t.name for t in loss.tags.all()]))


# The list's dates and times, written as the API writes them (what NinjaJSONEncoder would do for
# each, one call at a time, while encoding: a tenth of a list request's time).
_LIST_DATES = ("first_seen", "created_at", "updated_at")
_json_value = DjangoJSONEncoder().default


@cache
def _loss_columns() -> QuerySet[Loss, tuple[Any, ...]]:
    """Return the losses table read as LOSS_COLUMNS: resolving those 26 fields and their joins
    costs more than running the query, so each process does it once (and filters a copy)."""
    return Loss.objects.values_list(*LOSS_COLUMNS.values())


def loss_rows(ids: list[int]) -> list[dict[str, Any]]:
    """Return the losses with these ids, in this order, as LossOut's fields ready for JSON (the
    unpublished or deleted since their ids were read are left out)."""
    names = list(LOSS_COLUMNS)
    found = _loss_columns().filter(pk__in=ids)
    rows = {row[0]: dict(zip(names, row, strict=True)) for row in found}
    tags: dict[int, list[str]] = {pk: [] for pk in rows}
    through = Loss.tags.through.objects.filter(loss_id__in=ids)
    for loss_id, name in through.values_list("loss_id", "tag__name"):
        tags[loss_id].append(name)
    listed = []
    for pk in ids:
        if pk in rows:
            row = _finished(rows[pk], tags[pk])
            for name in _LIST_DATES:
                if row[name] is not None:
                    row[name] = _json_value(row[name])
            listed.append(row)
    return listed


def _finished(row: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    """Return a loss's columns with its tags, sorted, and its fate history as FateOut has it."""
    row["fate_history"] = [
        {"fate": e["fate"], "detail": e.get("detail", ""), "date": e.get("date")}
        for e in row["fate_history"]
    ]
    row["tags"] = sorted(tags)
    return row


def _visible(request: HttpRequest, loss_id: int) -> Loss:
    found = (
        losses_visible_to(request.user)
        .select_related("conflict", "side", "model__category")
        .filter(pk=loss_id)
        .first()
    )
    if found is None:
        raise Http404(f"no loss #{loss_id}, or not one you may see")
    return found


def _editor(request: HttpRequest) -> None:
    require_scope(request, Scope.WRITE)
    if role_of(request.user) is None:
        raise Forbidden("only contributors, reviewers and admins write to the ledger")


def _refs(conflict: Conflict, data: dict[str, Any]) -> dict[str, Any]:
    """Return the loss fields of a payload with ids turned into the records they name."""
    fields: dict[str, Any] = {}
    lookups: dict[str, Any] = {
        "side": Side.objects.filter(conflict=conflict),
        "captured_by": Side.objects.filter(conflict=conflict),
        "model": EquipmentModel.objects.all(),
        "admin_unit": AdminUnit.objects.all(),
    }
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            continue
        if name in lookups and value is not None:
            found = lookups[name].filter(pk=value).first()
            if found is None:
                raise InvalidInput(f"{name.replace('_', ' ')} #{value} does not exist here")
            value = found
        fields[name] = value
    return fields


class LossPageOut(Schema):
    items: list[LossOut]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page.")
    next: str | None = Field(description="The next page's URL; null on the last page.")
    sort: str
    limit: int


@router.get("", response=LossPageOut, auth=ANYONE, summary="The published losses, filtered")
def loss_list(
    request: HttpRequest,
    filters: Query[LossFilter],
    page: Query[PageQuery],
) -> HttpResponse:
    """Return a page of verified losses of public conflicts (for everyone alike; see api.ledger)."""
    found = loss_page_query(request, filters, page)
    body = {**found, "items": loss_rows(found["items"])}
    response = HttpResponse(json.dumps(body, cls=NinjaJSONEncoder), content_type=JSON)
    last_modified(response)
    return response


@router.get("/{loss_id}", response=LossOut, auth=ANYONE, summary="One loss")
def loss_get(request: HttpRequest, loss_id: int) -> LossOut:
    """Return a loss: readers see verified losses only."""
    return loss_out(_visible(request, loss_id))


@router.post("", response={201: LossOut}, summary="Record a loss")
def loss_new(request: HttpRequest, payload: LossIn) -> Status[LossOut]:
    """Record a new loss as a draft or submitted for review (verifying is a review action)."""
    _editor(request)
    if payload.status not in (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED):
        raise InvalidInput("a new loss is a draft or submitted; verifying is a review action")
    conflict = Conflict.objects.filter(slug=payload.conflict).first()
    if conflict is None:
        raise InvalidInput(f"no conflict {payload.conflict!r}")
    data = payload.model_dump(exclude={"conflict", "fates", "status", "tags", "reason"})
    if data.get("place_precision") is None:
        data.pop("place_precision", None)
    fields = _refs(conflict, data)
    created = loss_create(
        conflict=conflict,
        fates=payload.fates,
        status=payload.status,
        tags=payload.tags,
        by=request.user,
        via=VIA,
        reason=payload.reason,
        **fields,
    )
    return Status(201, loss_out(_visible(request, created.pk)))


@router.patch("/{loss_id}", response=LossOut, summary="Edit a loss")
def loss_edit(request: HttpRequest, loss_id: int, payload: LossPatch) -> LossOut:
    """Change some fields of a loss; refused if it changed since `revision` (409)."""
    _editor(request)
    found = _visible(request, loss_id)
    if not workflow.may_edit(request.user, found):
        raise Forbidden(f"you may not edit loss #{loss_id}")
    given = payload.model_dump(exclude_unset=True, exclude={"revision", "reason", "fates", "tags"})
    loss_update(
        loss=found,
        by=request.user,
        revision=payload.revision,
        fates=payload.fates,
        tags=payload.tags,
        reason=payload.reason,
        via=VIA,
        **_refs(found.conflict, given),
    )
    return loss_out(_visible(request, loss_id))


@router.post("/{loss_id}/review", response=LossOut, summary="Take a review action")
def loss_review(request: HttpRequest, loss_id: int, payload: ReviewIn) -> LossOut:
    """Submit, withdraw, verify, reject, send back with a comment, or reopen a loss."""
    _editor(request)
    workflow.review_transition(
        record=_visible(request, loss_id),
        action=payload.action,
        by=request.user,
        reason=payload.reason,
        revision=payload.revision,
        via=VIA,
    )
    return loss_out(_visible(request, loss_id))


@router.post("/{loss_id}/merge", response=LossOut, summary="Merge a duplicate into another loss")
def loss_merge_into(request: HttpRequest, loss_id: int, payload: MergeIn) -> LossOut:
    """Merge this loss into the one it repeats (reviewers and admins); returns the one kept."""
    _editor(request)
    if role_of(request.user) not in workflow.REVIEWERS:
        raise Forbidden("only reviewers and admins merge losses")
    kept = loss_merge(
        loss=_visible(request, loss_id),
        into=_visible(request, payload.into),
        by=request.user,
        reason=payload.reason,
        via=VIA,
    )
    return loss_out(_visible(request, kept.pk))
