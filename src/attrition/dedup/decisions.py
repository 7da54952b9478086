"""Reviewers' decisions on duplicate candidates: merge, same evidence but different items, or not
a duplicate. Each is kept on the pair, so a decided pair is never suggested again, and a merge
goes through the ledger's own merge (every piece of evidence and both histories kept).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from attrition.dedup.models import LossCandidate
from attrition.errors import Forbidden, InvalidInput, NotFound
from attrition.losses.models import Loss
from attrition.losses.services import loss_merge, loss_unmerge

DECISIONS = {
    "merge": LossCandidate.Status.MERGED,
    "different": LossCandidate.Status.DIFFERENT_ITEMS,
    "not_duplicate": LossCandidate.Status.NOT_DUPLICATE,
}


def pair_key(a: Loss | int, b: Loss | int) -> tuple[int, int]:
    """Return the two loss ids of a pair in stored order, lower first."""
    x, y = (a if isinstance(a, int) else a.pk), (b if isinstance(b, int) else b.pk)
    return (x, y) if x < y else (y, x)


def candidate_get(candidate_id: int) -> LossCandidate:
    """Return a candidate pair, or raise NotFound."""
    found = LossCandidate.objects.select_related("loss_a", "loss_b").filter(pk=candidate_id).first()
    if found is None:
        raise NotFound(f"no duplicate candidate #{candidate_id}")
    return found


def may_decide(user: Any) -> bool:
    """Return whether a user may decide on candidates (reviewers and admins)."""
    return bool(getattr(user, "is_reviewer", False) or getattr(user, "is_superuser", False))


def candidate_decide(
    *,
    candidate: LossCandidate,
    decision: str,
    by: Any,
    reason: str = "",
    keep: Loss | None = None,
    via: str = "",
) -> LossCandidate:
    """Record a reviewer's decision on a pair; "merge" merges the other loss into `keep`."""
    if not may_decide(by):
        raise Forbidden("only reviewers and admins decide on duplicates")
    if decision not in DECISIONS:
        raise InvalidInput(f"{decision!r} is not a decision: use {', '.join(DECISIONS)}")
    with transaction.atomic():
        current = LossCandidate.objects.select_for_update().get(pk=candidate.pk)
        if current.status != LossCandidate.Status.OPEN:
            raise InvalidInput(
                f"candidate #{current.pk} was already decided: {current.get_status_display()}"
            )
        if decision == "merge":
            keep = keep or current.loss_a
            if keep.pk not in (current.loss_a_id, current.loss_b_id):
                raise InvalidInput("the loss to keep must be one of the pair")
            other = current.loss_b if keep.pk == current.loss_a_id else current.loss_a
            loss_merge(loss=other, into=keep, by=by, reason=reason or "duplicate", via=via)
        current.status = DECISIONS[decision]
        current.decided_by = by
        current.decided_at = timezone.now()
        current.reason = reason
        current.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    return current


def candidate_reopen(*, candidate: LossCandidate, by: Any, reason: str = "") -> LossCandidate:
    """Take back a decision (an admin's or reviewer's), unmerging the pair if it was merged."""
    if not may_decide(by):
        raise Forbidden("only reviewers and admins decide on duplicates")
    with transaction.atomic():
        current = LossCandidate.objects.select_for_update().get(pk=candidate.pk)
        if current.status == LossCandidate.Status.MERGED:
            merged = current.loss_a if current.loss_a.merged_into_id else current.loss_b
            loss_unmerge(loss=merged, by=by, reason=reason or "duplicate decision reopened")
        current.status = LossCandidate.Status.OPEN
        current.decided_by, current.decided_at, current.reason = None, None, reason
        current.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    return current
