"""Jobs of deduplication: refresh a loss's candidate pairs after it or its evidence changed."""

from __future__ import annotations

from attrition.jobs import job


@job("dedup.loss", retries=1)
def loss_job(loss_id: int) -> int:
    """Refresh the candidate pairs of one loss; return how many open pairs it has."""
    from attrition.dedup.services import loss_candidates_refresh
    from attrition.losses.models import Loss

    loss = Loss.objects.filter(pk=loss_id).first()
    return len(loss_candidates_refresh(loss)) if loss is not None else 0


@job("dedup.losses", retries=1)
def losses_job(loss_ids: list[int]) -> int:
    """Refresh the candidate pairs of a batch of losses; return how many open pairs they have."""
    from attrition.dedup.services import loss_candidates_refresh
    from attrition.losses.models import Loss

    return sum(len(loss_candidates_refresh(loss)) for loss in Loss.objects.filter(pk__in=loss_ids))
