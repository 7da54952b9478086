"""What a public loss page shows beside the loss: the other items in the same evidence, the
records merged into it, and the items a reviewer found to be different ones in the same evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from attrition.dedup.models import LossCandidate
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Depiction, Loss
from attrition.losses.selectors.filtering import public_ledger

RELATED_LIMIT = 50


@dataclass
class Related:
    """Items related to one loss; each list holds public losses only, except `merged` (ids)."""

    same_evidence: list[Loss] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    different: list[Loss] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.same_evidence or self.merged or self.different)


def loss_related(*, loss: Loss) -> Related:
    """Return the related items of a public loss (at most RELATED_LIMIT of each kind)."""
    evidence = Depiction.objects.filter(
        loss=loss, deleted_at__isnull=True, evidence__deleted_at__isnull=True
    ).values("evidence_id")
    shown_with = (
        Depiction.objects.filter(evidence_id__in=evidence, deleted_at__isnull=True)
        .exclude(loss_id=loss.pk)
        .values("loss_id")
    )
    pairs = LossCandidate.objects.filter(
        Q(loss_a=loss) | Q(loss_b=loss), status=LossCandidate.Status.DIFFERENT_ITEMS
    ).values_list("loss_a_id", "loss_b_id")
    others = {b if a == loss.pk else a for a, b in pairs}
    listed = public_ledger().select_related("model", "side").order_by("first_seen", "id")
    return Related(
        same_evidence=list(listed.filter(pk__in=shown_with)[:RELATED_LIMIT]),
        merged=list(
            Loss.objects.filter(merged_into=loss, status=ReviewStatus.MERGED)
            .order_by("id")
            .values_list("id", flat=True)[:RELATED_LIMIT]
        ),
        different=list(listed.filter(pk__in=sorted(others))[:RELATED_LIMIT]),
    )
