"""Claims and control records in review: the same workflow as losses, shown field by field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse

from attrition import history
from attrition.admin_base.history import history_html
from attrition.claims.models import Claim
from attrition.evidence.models import Evidence
from attrition.losses.choices import ReviewStatus
from attrition.review import workflow
from attrition.review.selectors import visible_to
from attrition.territory.models import ControlRecord

# The kinds of record besides losses that go through review, by the name their URLs use.
KINDS: dict[str, type[models.Model]] = {"claims": Claim, "control": ControlRecord}
LABELS = {"losses": "Losses", "claims": "Claims", "control": "Control records"}
# Fields a record page leaves out: its review state (shown apart) and bookkeeping.
HIDDEN = frozenset(
    {"status", "review_status", "created_by", "created_at", "updated_at", "deleted_at"}
)


def model_of(kind: str) -> type[models.Model]:
    """Return the model of a kind of reviewable record (LookupError if there is none)."""
    try:
        return KINDS[kind]
    except KeyError:
        raise LookupError(kind) from None


def submitted(kind: str) -> QuerySet[Any]:
    """Return the submitted, live records of a kind, oldest first."""
    model = model_of(kind)
    field = workflow.status_field(model)
    related = ["conflict", "created_by"] + (
        ["unit", "controlling_side"] if kind == "control" else []
    )
    queryset = model._default_manager.filter(**{field: ReviewStatus.SUBMITTED})
    return (
        queryset.filter(deleted_at__isnull=True)
        .select_related(*related)
        .order_by("updated_at", "pk")
    )


def mine(kind: str, user: Any, status: str) -> QuerySet[Any]:
    """Return the records of a kind a user created with a status, the latest changed first."""
    model = model_of(kind)
    field = workflow.status_field(model)
    versions = history.versions_of(model)._default_manager.filter(record_id=OuterRef("pk"))
    # The reason of the last change: a reviewer's comment when the record was sent back.
    comment = Subquery(versions.order_by("-version").values("change_reason")[:1])
    found: QuerySet[Any] = (
        model._default_manager.filter(created_by=user, deleted_at__isnull=True, **{field: status})
        .select_related("conflict")
        .annotate(status_reason=comment)
        .order_by("-updated_at", "-pk")
    )
    return found


def waiting_counts() -> dict[str, int]:
    """Return how many records of each kind wait for review."""
    from attrition.losses.models import Loss

    counts = {
        "losses": Loss.objects.filter(
            status=ReviewStatus.SUBMITTED, deleted_at__isnull=True
        ).count()
    }
    counts.update({kind: submitted(kind).count() for kind in KINDS})
    return counts


@dataclass
class RecordView:
    """Everything the review page of a claim or control record shows."""

    kind: str
    record: Any
    status: str
    status_label: str
    comment: str
    fields: list[tuple[str, Any]]
    evidence: list[Evidence]
    actions: list[str]
    history: str


def record_get(kind: str, pk: int, user: Any) -> Any:
    """Return a record of a kind that the user may open, or None."""
    model = model_of(kind)
    return visible_to(user, model._default_manager.all()).filter(pk=pk).first()


def record_view(kind: str, record: Any, user: Any) -> RecordView:
    """Return the review page of a claim or control record for a user."""
    fields = []
    for field in type(record)._meta.concrete_fields:
        if field.primary_key or field.name in HIDDEN:
            continue
        display = getattr(record, f"get_{field.name}_display", None)
        value = display() if callable(display) else getattr(record, field.name)
        fields.append((str(field.verbose_name), value))
    if kind == "claims":
        evidence = [record.evidence] if record.evidence_id else []
    else:
        evidence = list(record.evidence.all())
    return RecordView(
        kind=kind,
        record=record,
        status=workflow.status_of(record),
        status_label=ReviewStatus(workflow.status_of(record)).label,
        comment=_last_reason(record),
        fields=fields,
        evidence=evidence,
        actions=workflow.actions_for(user, record),
        history=history_html(record, revert_url=_revert_url(record, user)),
    )


def _last_reason(record: Any) -> str:
    """Return why the record's status last changed, if a reviewer said so."""
    versions = history.versions_of(type(record))._default_manager.filter(record_id=record.pk)
    last = versions.order_by("-version").values_list("change_kind", "change_reason").first()
    return str(last[1]) if last and last[0] == history.ChangeKind.STATUS else ""


def _revert_url(record: Any, user: Any) -> Callable[[int], str] | None:
    """Return how to link each version to its revert page, for those who may edit the record."""
    if not workflow.may_edit(user, record):
        return None
    meta = type(record)._meta
    name = f"admin:{meta.app_label}_{meta.model_name}_revert"
    return lambda version: reverse(name, args=[record.pk, version])
