"""Reads for the contributors' and reviewers' pages: the queue, my work, and one loss in review."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from attrition import history
from attrition.accounts.models import Role
from attrition.admin_base.history import Formatter, changes_html, version_changes
from attrition.admin_base.roles import role_of
from attrition.dedup.models import LossCandidate
from attrition.dedup.selectors import Side, side_of
from attrition.losses.admin import fates_to_text
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.review import workflow

S = ReviewStatus
# Statuses whose records only their author, reviewers and admins see (work not yet offered).
PRIVATE = frozenset({S.DRAFT, S.NEEDS_CHANGES})
QUEUE_FILTERS = ("conflict", "side", "category", "model", "author", "duplicates", "q")


def visible_to(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Return the reviewable records a user may open: readers the verified ones of public
    conflicts, editors all but others' drafts. Deleted records are shown to admins only.
    """
    field = workflow.status_field(queryset.model)
    role = role_of(user)
    if role is None:
        return queryset.filter(
            **{field: S.VERIFIED}, deleted_at__isnull=True, conflict__is_public=True
        )
    if role != Role.ADMIN:
        queryset = queryset.filter(deleted_at__isnull=True)
    if role in workflow.REVIEWERS:
        return queryset
    return queryset.filter(~Q(**{f"{field}__in": PRIVATE}) | Q(created_by=user))


def losses_visible_to(user: Any, queryset: QuerySet[Loss] | None = None) -> QuerySet[Loss]:
    """Return the losses a user may open (see visible_to)."""
    return visible_to(user, Loss.objects.all() if queryset is None else queryset)


def may_view(user: Any, loss: Loss) -> bool:
    """Return whether a user may open a loss."""
    return losses_visible_to(user, Loss.objects.filter(pk=loss.pk)).exists()


def _open_candidates() -> Exists:
    return Exists(
        LossCandidate.objects.filter(
            Q(loss_a=OuterRef("pk")) | Q(loss_b=OuterRef("pk")),
            status=LossCandidate.Status.OPEN,
        )
    )


def queue(params: dict[str, str]) -> QuerySet[Loss]:
    """Return the submitted losses waiting for review, oldest first, filtered by `params`."""
    queryset = (
        Loss.objects.filter(status=S.SUBMITTED, deleted_at__isnull=True)
        .select_related("model__category", "side", "conflict", "created_by", "admin_unit")
        .defer("admin_unit__geometry")
        .annotate(has_candidates=_open_candidates())
        .order_by("updated_at", "pk")
    )
    for name in ("conflict", "side", "model"):
        value = params.get(name, "")
        if value.isdigit():
            queryset = queryset.filter(**{f"{name}_id": int(value)})
    if params.get("category", "").isdigit():
        queryset = queryset.filter(model__category_id=int(params["category"]))
    if params.get("author"):
        queryset = queryset.filter(created_by__username=params["author"])
    if params.get("duplicates") in ("yes", "no"):
        queryset = queryset.filter(has_candidates=params["duplicates"] == "yes")
    text = params.get("q", "").strip()
    if text:
        queryset = queryset.filter(
            Q(markings__icontains=text)
            | Q(place_text__icontains=text)
            | Q(unit__icontains=text)
            | Q(description__icontains=text)
            | Q(model__name__icontains=text)
        )
    return queryset


def mine(user: Any, status: str) -> QuerySet[Loss]:
    """Return the losses a user created with a status, the most recently changed first."""
    return (
        Loss.objects.filter(created_by=user, status=status, deleted_at__isnull=True)
        .select_related("model", "side", "conflict")
        .order_by("-updated_at", "-pk")
    )


def mine_counts(user: Any) -> dict[str, int]:
    """Return how many losses a user created are in each status."""
    counts = {s: 0 for s in S.values}
    rows = (
        Loss.objects.filter(created_by=user, deleted_at__isnull=True)
        .values_list("status")
        .order_by()
    )
    for (status,) in rows:
        counts[status] += 1
    return counts


@dataclass
class Entry:
    """One version of a record on its timeline."""

    version: Any
    changes: str
    can_revert: bool


@dataclass
class Review:
    """Everything the review page shows of one loss."""

    loss: Loss
    side: Side
    actions: list[str]
    may_edit: bool
    candidates: list[tuple[LossCandidate, Loss]]
    timeline: list[Entry] = field(default_factory=list)
    next_id: int | None = None


def timeline(loss: Loss) -> list[Entry]:
    """Return the versions of a loss, newest first, each with its field changes."""
    versions = list(
        history.versions_of(Loss)
        ._default_manager.filter(record_id=loss.pk)
        .select_related("changed_by")
        .order_by("version")
    )
    entries = []
    formatters: dict[str, Formatter] = {"fate_history": fates_to_text, "tag_names": ", ".join}
    for i, version in enumerate(versions):
        changes = version_changes(Loss, versions[i - 1] if i else None, version)
        entries.append(
            Entry(
                version=version,
                changes=changes_html(Loss, changes, formatters=formatters) if changes else "",
                can_revert=i < len(versions) - 1,
            )
        )
    return entries[::-1]


def review_view(loss: Loss, user: Any) -> Review:
    """Return the review page of a loss for a user: record, evidence, candidates, actions."""
    pairs = (
        LossCandidate.objects.filter(Q(loss_a=loss) | Q(loss_b=loss), status="open")
        .select_related("loss_a__model", "loss_b__model", "loss_a__side", "loss_b__side")
        .order_by("-score")[:20]
    )
    following = (
        queue({}).exclude(pk=loss.pk).values_list("pk", flat=True).first()
        if role_of(user) in workflow.REVIEWERS
        else None
    )
    return Review(
        loss=loss,
        side=side_of(loss, set()),
        actions=workflow.actions_for(user, loss),
        may_edit=workflow.may_edit(user, loss),
        candidates=[(p, p.loss_b if p.loss_a_id == loss.pk else p.loss_a) for p in pairs],
        timeline=timeline(loss),
        next_id=following,
    )
