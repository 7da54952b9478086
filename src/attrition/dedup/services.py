"""Writes of deduplication: record media matches of a new capture, and refresh a loss's
candidate pairs from its score against the losses that could be the same item.

Decided pairs are never touched again: a pair marked "not a duplicate" stays so, whatever
later edits do to its score.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from attrition.dedup.decisions import pair_key
from attrition.dedup.models import LossCandidate, MediaMatch
from attrition.dedup.scoring import (
    CANDIDATE_FLOOR,
    Score,
    candidate_query,
    candidates_for,
    shared_media,
)
from attrition.dedup.signals import MediaEvidence
from attrition.evidence.models import Capture
from attrition.losses.models import Depiction, Loss

log = logging.getLogger(__name__)
# The likeliest candidates of a loss whose images are also compared with local features.
TIER2_LOSSES = 10


def loss_captures(loss_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return, per loss id, the captures that depict it (directly or through its evidence)."""
    ids = list(loss_ids)
    found: dict[int, set[int]] = defaultdict(set)
    live = Depiction.objects.filter(loss_id__in=ids, deleted_at__isnull=True)
    for loss_id, capture_id in live.exclude(capture__isnull=True).values_list(
        "loss_id", "capture_id"
    ):
        found[loss_id].add(capture_id)
    through = Capture.objects.filter(
        custody__evidence__depictions__loss_id__in=ids,
        custody__evidence__depictions__deleted_at__isnull=True,
    ).values_list("custody__evidence__depictions__loss_id", "pk")
    for loss_id, capture_id in through:
        found[loss_id].add(capture_id)
    return found


def media_evidence(loss: Loss, others: list[Loss]) -> dict[int, MediaEvidence]:
    """Return, per other loss id, what its media shares with or matches in `loss`'s."""
    shared = shared_media(loss, others)
    captures = loss_captures([loss.pk, *(o.pk for o in others)])
    own = captures.get(loss.pk, set())
    owners: dict[int, set[int]] = defaultdict(set)
    for other in others:
        for capture_id in captures.get(other.pk, set()):
            owners[capture_id].add(other.pk)
    matched: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    if own:
        pairs = MediaMatch.objects.filter(Q(capture_a__in=own) | Q(capture_b__in=own)).values_list(
            "capture_a_id", "capture_b_id", "kind", "distance", "band", "trusted"
        )
        for a, b, kind, distance, band, trusted in pairs:
            mine, theirs = (a, b) if a in own else (b, a)
            bits = (
                -1
                if kind == MediaMatch.Kind.FEATURES and band == MediaMatch.Band.AUTO
                else distance
            )
            if not trusted or bits is None:
                continue
            for other_id in owners.get(theirs, set()):
                matched[other_id].append((mine, theirs, int(bits)))
    return {
        # Media matches were looked up here, so "none" is a finding, not "not checked".
        other.pk: dataclasses.replace(
            shared.get(other.pk, MediaEvidence()),
            matched=tuple(matched.get(other.pk, ())),
            near_checked=True,
        )
        for other in others
    }


def tier2_check(loss: Loss, others: list[Loss]) -> int:
    """Verify the images of a loss against those of its likeliest candidates with local
    features (what crops, rotations and screenshots defeat PDQ on); return the matches found."""
    from attrition.dedup.tier2 import verify_pairs

    images = loss_captures([loss.pk, *(o.pk for o in others)])
    kinds = dict(
        Capture.objects.filter(pk__in={c for cs in images.values() for c in cs}).values_list(
            "pk", "kind"
        )
    )
    own = [c for c in images.get(loss.pk, ()) if kinds.get(c) == Capture.Kind.IMAGE]
    pairs = [
        (mine, theirs)
        for other in others
        for theirs in images.get(other.pk, ())
        if kinds.get(theirs) == Capture.Kind.IMAGE
        for mine in own
    ]
    return len(verify_pairs(pairs))


def score_json(score: Score) -> list[dict[str, object]]:
    """Return a score's signals as the candidate record keeps them."""
    return [dataclasses.asdict(signal) for signal in score.signals]


def loss_candidates_refresh(loss: Loss, *, limit: int = 20) -> list[LossCandidate]:
    """Score a loss against the losses that could be the same item and keep the open pairs."""
    if loss.deleted_at is not None or loss.status == "merged":
        return []
    evidence: dict[int, MediaEvidence] = {}

    def media_for(a: Loss, b: Loss) -> MediaEvidence:
        return evidence.get(b.pk, MediaEvidence())

    # The possible duplicates are read once, and scored again only if tier 2 found new matches.
    others = list(candidate_query(loss))
    evidence.update(media_evidence(loss, others))
    scored = candidates_for(loss, media_for=media_for, others=others, limit=len(others), floor=0.0)
    if tier2_check(loss, [other for other, _ in scored[:TIER2_LOSSES]]):
        evidence.update(media_evidence(loss, others))
        scored = candidates_for(
            loss, media_for=media_for, others=others, limit=len(others), floor=0.0
        )
    kept = []
    with transaction.atomic():
        for other, score in [(o, s) for o, s in scored if s.total >= CANDIDATE_FLOOR][:limit]:
            x, y = pair_key(loss, other)
            pair, created = LossCandidate.objects.get_or_create(
                loss_a_id=x,
                loss_b_id=y,
                defaults={
                    "score": score.total,
                    "verdict": score.verdict,
                    "signals": score_json(score),
                },
            )
            if not created and pair.status == LossCandidate.Status.OPEN:
                pair.score, pair.verdict, pair.signals = (
                    score.total,
                    score.verdict,
                    score_json(score),
                )
                pair.save(update_fields=["score", "verdict", "signals", "updated_at"])
            kept.append(pair)
    return kept
