"""Estimates from the ledger's own sources: lists by platform, channel, importer or collector."""

from __future__ import annotations

import numpy as np
import pytest

from attrition.counting.estimates import undocumented_estimate
from attrition.errors import InvalidInput
from attrition.evidence.services import evidence_create
from attrition.losses.services import depiction_create
from tests.ledger import Ledger


def seed_lists(ledger: Ledger, *, items: int, p: tuple[float, ...], seed: int) -> int:
    """Create `items` losses, each shown on each platform with chance p; return how many seen."""
    platforms = ["telegram", "x", "youtube"][: len(p)]
    rng = np.random.default_rng(seed)
    seen = 0
    for i in range(items):
        on = [name for name, chance in zip(platforms, p, strict=True) if rng.random() < chance]
        if not on:
            continue  # never documented: not in the ledger
        seen += 1
        model = ledger.t62 if i % 2 else ledger.ranger
        loss = ledger.loss(model=model)
        for name in on:
            ev = evidence_create(url=f"https://example.org/{name}/{i}", platform=name)
            depiction_create(loss=loss, evidence=ev)
    return seen


def test_it_estimates_the_total_from_platforms_as_lists(ledger: Ledger) -> None:
    documented = seed_lists(ledger, items=200, p=(0.5, 0.4, 0.45), seed=1)

    report = undocumented_estimate(conflict=ledger.conflict, kind="platform", stratify=True)

    assert report.documented == documented
    assert sorted(report.lists) == ["telegram", "x", "youtube"]
    est = report.estimate
    assert est.method == "log-linear"
    assert not est.refused
    assert est.low is not None
    assert est.high is not None
    assert est.low <= 200 <= est.high
    assert [s.key for s in report.strata] == ["test-tanks", "test-trucks"]
    assert report.stratified_total is not None
    assert sum(s.documented for s in report.strata) == documented


def test_it_uses_chapman_for_two_lists(ledger: Ledger) -> None:
    seed_lists(ledger, items=150, p=(0.5, 0.5), seed=2)

    report = undocumented_estimate(conflict=ledger.conflict, kind="platform")

    assert report.estimate.method == "chapman"
    assert "independence_untestable" in {c.code for c in report.estimate.warnings}


def test_it_refuses_when_the_ledger_has_one_source_only(ledger: Ledger) -> None:
    seed_lists(ledger, items=20, p=(1.0,), seed=3)

    report = undocumented_estimate(conflict=ledger.conflict, kind="platform")

    assert report.estimate.refused
    assert report.documented == 20


def test_it_refuses_an_unknown_kind_of_list(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="lists are drawn"):
        undocumented_estimate(conflict=ledger.conflict, kind="astrology")
