"""Reviewers decide on duplicate candidates: merges keep everything and can be undone."""

from __future__ import annotations

import pytest

from attrition.accounts.models import User
from attrition.dedup.decisions import candidate_decide, candidate_reopen, pair_key
from attrition.dedup.models import LossCandidate
from attrition.errors import Forbidden, InvalidInput
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.tally import tally_count
from tests.ledger import Ledger


def candidate_for(a: Loss, b: Loss) -> LossCandidate:
    x, y = pair_key(a, b)
    return LossCandidate.objects.create(loss_a_id=x, loss_b_id=y, score=0.9, verdict="likely same")


def counted(ledger: Ledger) -> int:
    return tally_count(conflict=ledger.conflict).total


def test_it_merges_a_pair_keeping_every_piece_of_evidence(ledger: Ledger, reviewer: User) -> None:
    a = ledger.loss(evidence=[ledger.evidence(1)])
    b = ledger.loss(evidence=[ledger.evidence(2)])
    assert counted(ledger) == 2
    pair = candidate_for(a, b)

    decided = candidate_decide(candidate=pair, decision="merge", by=reviewer, keep=a)

    assert decided.status == LossCandidate.Status.MERGED
    assert decided.decided_by == reviewer
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == (ReviewStatus.MERGED, a.pk)
    assert a.depictions.count() == 2
    assert counted(ledger) == 1  # one physical item, counted once


def test_it_undoes_a_merge_when_the_decision_is_reopened(ledger: Ledger, reviewer: User) -> None:
    a = ledger.loss(evidence=[ledger.evidence(1)])
    b = ledger.loss(evidence=[ledger.evidence(2)])
    pair = candidate_decide(candidate=candidate_for(a, b), decision="merge", by=reviewer, keep=b)

    reopened = candidate_reopen(candidate=pair, by=reviewer, reason="two different tanks")

    assert reopened.status == LossCandidate.Status.OPEN
    a.refresh_from_db()
    assert (a.status, a.merged_into_id) == (ReviewStatus.VERIFIED, None)
    assert [d.evidence.url for d in a.depictions.all()] == ["https://t.me/test_channel/1"]
    assert counted(ledger) == 2


@pytest.mark.parametrize("decision", ["not_duplicate", "different"])
def test_it_remembers_a_pair_that_is_not_one_item(
    ledger: Ledger, reviewer: User, decision: str
) -> None:
    a, b = ledger.loss(), ledger.loss()
    pair = candidate_decide(
        candidate=candidate_for(a, b), decision=decision, by=reviewer, reason="two tanks"
    )
    assert pair.status != LossCandidate.Status.OPEN
    assert counted(ledger) == 2
    with pytest.raises(InvalidInput, match="already decided"):
        candidate_decide(candidate=pair, decision="merge", by=reviewer)


def test_it_lets_only_reviewers_decide(ledger: Ledger, contributor: User) -> None:
    pair = candidate_for(ledger.loss(), ledger.loss())
    with pytest.raises(Forbidden):
        candidate_decide(candidate=pair, decision="merge", by=contributor)
    pair.refresh_from_db()
    assert pair.status == LossCandidate.Status.OPEN


def test_it_refuses_an_unknown_decision_or_a_stranger_to_keep(
    ledger: Ledger, reviewer: User
) -> None:
    pair = candidate_for(ledger.loss(), ledger.loss())
    with pytest.raises(InvalidInput, match="not a decision"):
        candidate_decide(candidate=pair, decision="maybe", by=reviewer)
    with pytest.raises(InvalidInput, match="one of the pair"):
        candidate_decide(candidate=pair, decision="merge", by=reviewer, keep=ledger.loss())
