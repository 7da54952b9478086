"""Candidate pairs are kept from scores, refreshed while open, and never reopened once decided."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

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


def test_it_refreshes_candidates_when_a_loss_is_saved(
    ledger: Ledger, django_capture_on_commit_callbacks: Any
) -> None:
    from huey.contrib.djhuey import HUEY

    was, HUEY.immediate = HUEY.immediate, True
    try:
        first = ledger.loss(markings="311")
        with django_capture_on_commit_callbacks(execute=True):
            second = ledger.loss(markings="311")
    finally:
        HUEY.immediate = was
    pair = LossCandidate.objects.get()
    assert (pair.loss_a_id, pair.loss_b_id) == (first.pk, second.pk)


def test_it_scans_the_ledger_and_lists_pairs_from_the_command_line(ledger: Ledger) -> None:
    from click.testing import CliRunner

    from attrition.cli import cli

    a = ledger.loss(markings="411")
    b = ledger.loss(markings="411")
    runner = CliRunner()
    scanned = runner.invoke(cli, ["dedup", "scan", "--conflict", ledger.conflict.slug])
    assert scanned.exit_code == 0, scanned.output
    assert "1 open pair(s), 1 new" in scanned.output
    listed = runner.invoke(cli, ["dedup", "candidates"])
    assert f"loss #{a.pk}" in listed.output
    assert f"loss #{b.pk}" in listed.output
    assert "markings" in listed.output
    unknown = runner.invoke(cli, ["dedup", "scan", "--conflict", "nope"])
    assert unknown.exit_code == 2


def test_it_queues_an_imports_losses_in_batches_not_one_job_each(
    ledger: Ledger, django_capture_on_commit_callbacks: Any
) -> None:
    from attrition.dedup import receivers

    with django_capture_on_commit_callbacks() as callbacks, receivers.batched():
        losses = [ledger.loss(markings=str(n)) for n in range(3)]
    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"loss_ids": sorted(loss.pk for loss in losses)}
    assert callbacks[0].args == ("dedup.losses",)


def test_it_says_media_matches_were_looked_for_when_none_were_found(ledger: Ledger) -> None:
    post = ledger.evidence(5)
    ledger.loss(evidence=[post])
    [pair] = loss_candidates_refresh(ledger.loss(evidence=[post]))
    signals = {s["name"]: s for s in pair.signals}
    assert signals["same media"]["contribution"] > 0
    assert signals["matched media"]["value"] == "no near-duplicate pair"  # not "not checked"
