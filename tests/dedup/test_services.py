"""Candidate pairs are kept from scores, refreshed while open, and never reopened once decided."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from attrition.accounts.models import User
from attrition.dedup.decisions import candidate_decide
from attrition.dedup.models import LossCandidate, MediaMatch
from attrition.dedup.services import loss_candidates_refresh, media_evidence
from attrition.evidence.models import Capture
from tests.ledger import Ledger


def test_it_keeps_a_pair_for_losses_with_the_same_markings(ledger: Ledger) -> None:
    a = ledger.loss(markings="\u0410-211", evidence=[ledger.evidence(1)])  # Cyrillic A
    b = ledger.loss(markings="a211", evidence=[ledger.evidence(2)])
    ledger.loss(markings="B-7", model=ledger.ranger)

    [pair] = loss_candidates_refresh(b)

    assert (pair.loss_a_id, pair.loss_b_id) == (a.pk, b.pk)
    assert pair.verdict == "likely same"
    assert {s["name"] for s in pair.signals} >= {"markings", "model", "side"}


def test_it_never_reopens_a_decided_pair(ledger: Ledger, reviewer: User) -> None:
    a = ledger.loss(markings="211")
    b = ledger.loss(markings="211")
    [pair] = loss_candidates_refresh(b)
    candidate_decide(candidate=pair, decision="not_duplicate", by=reviewer)
    before = LossCandidate.objects.get(pk=pair.pk)

    loss_candidates_refresh(a)

    after = LossCandidate.objects.get(pk=pair.pk)
    assert after.status == LossCandidate.Status.NOT_DUPLICATE
    assert (after.score, after.updated_at) == (before.score, before.updated_at)
    assert LossCandidate.objects.count() == 1


@pytest.mark.usefixtures("capture_storage")
def test_it_counts_matched_media_between_two_losses(ledger: Ledger, tmp_path: Path) -> None:
    first, second = ledger.evidence(1), ledger.evidence(2)
    captures = []
    for n, evidence in enumerate((first, second)):
        sha = hashlib.sha256(bytes([n])).hexdigest()
        capture = Capture.objects.create(
            sha256=sha, kind="image", storage_key=f"captures/{sha}", mime="image/jpeg", size_bytes=1
        )
        evidence.custody.create(capture=capture, method="http", collected_at=capture.created_at)
        captures.append(capture)
    a = ledger.loss(evidence=[first])
    b = ledger.loss(evidence=[second])
    low, high = sorted(captures, key=lambda c: c.pk)
    MediaMatch.objects.create(capture_a=low, capture_b=high, kind="pdq", band="auto", distance=12)

    media = media_evidence(a, [b])[b.pk]

    assert media.matched == ((captures[0].pk, captures[1].pk, 12),)
    [pair] = loss_candidates_refresh(a)
    matched = next(s for s in pair.signals if s["name"] == "matched media")
    assert matched["contribution"] > 0
