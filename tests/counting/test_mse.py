"""The estimators against populations of known size: coverage, bias, refusals and warnings."""

from __future__ import annotations

import pytest

from attrition.counting.mse import Histories, chapman, estimate
from attrition.counting.simulate import SCENARIOS, Scenario, simulate

BY_NAME = {s.name: s for s in SCENARIOS}


def test_it_computes_chapmans_estimate_by_hand() -> None:
    # 60 on list A, 50 on list B, 20 on both: (61 * 51) / 21 - 1 = 147.14...
    h = Histories(lists=("a", "b"), counts={(1, 0): 40, (0, 1): 30, (1, 1): 20})

    est = chapman(h)

    assert est.total == pytest.approx(61 * 51 / 21 - 1)
    assert est.low is not None
    assert est.high is not None
    assert h.observed < est.low < est.total < est.high
    assert "independence_untestable" in {c.code for c in est.warnings}


def test_it_builds_histories_from_items() -> None:
    h = Histories.from_items(["x", "t"], [{"x"}, {"x", "t"}, {"t"}, {"youtube"}, set()])

    assert h.counts == {(1, 0): 1, (1, 1): 1, (0, 1): 1}
    assert h.observed == 3


def test_it_refuses_when_the_lists_hardly_overlap() -> None:
    h = Histories(lists=("a", "b", "c"), counts={(1, 0, 0): 30, (0, 1, 0): 25, (1, 1, 0): 2})

    est = estimate(h)

    assert est.refused
    assert est.total is None
    assert [c.code for c in est.refusals] == ["overlap_too_small"]
    assert "only 2 item(s)" in est.refusals[0].message


def test_it_refuses_a_single_list() -> None:
    est = estimate(Histories(lists=("a",), counts={(1,): 40}))

    assert est.refused
    assert "too_few_lists" in {c.code for c in est.refusals}


@pytest.mark.parametrize(
    ("name", "runs", "low", "high"),
    [
        ("2 independent lists", 200, 0.90, 0.99),
        ("3 independent lists", 60, 0.88, 1.0),
        ("3 lists, list 2 copies list 1", 60, 0.85, 1.0),
    ],
)
def test_it_covers_the_truth_at_about_the_nominal_rate(
    name: str, runs: int, low: float, high: float
) -> None:
    result = simulate(BY_NAME[name], runs=runs, seed=7)

    assert result.refusal_rate == 0
    assert low <= result.coverage <= high, result
    assert abs(result.relative_bias) < 0.05, result


def test_it_covers_the_truth_with_four_lists() -> None:
    result = simulate(BY_NAME["4 independent lists"], runs=25, seed=3)

    assert result.coverage >= 0.84, result
    assert abs(result.relative_bias) < 0.05, result


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_it_reports_coverage_and_bias_over_many_runs(scenario: Scenario) -> None:
    result = simulate(scenario, runs=200, seed=11)

    print(result)  # the table in docs/counting.md comes from these
    if "independent" in scenario.name:
        assert 0.88 <= result.coverage <= 1.0, result


def test_it_warns_when_some_items_are_easier_to_see() -> None:
    result = simulate(BY_NAME["3 lists, heterogeneous capture"], runs=40, seed=5)

    # Heterogeneous capture biases every list model low: the warnings are what a reader gets.
    assert result.relative_bias < -0.2
    warned = result.warning_rates
    assert warned.get("heterogeneous_capture", 0) >= 0.6, warned
    assert max(warned.get("heterogeneous_capture", 0), warned.get("dependent_lists", 0)) >= 0.6


def test_it_names_the_dependence_it_found() -> None:
    result = simulate(BY_NAME["3 lists, list 2 copies list 1"], runs=20, seed=2)

    assert result.warning_rates.get("dependent_lists", 0) >= 0.9


def test_it_warns_that_two_dependent_lists_cannot_be_checked() -> None:
    result = simulate(BY_NAME["2 lists, list 2 copies list 1"], runs=30, seed=4)

    assert result.relative_bias < -0.2  # the failure the caveat describes
    assert result.warning_rates["independence_untestable"] == 1.0


def test_it_refuses_every_run_built_with_hardly_any_overlap() -> None:
    result = simulate(BY_NAME["3 lists, hardly any overlap"], runs=20, seed=1)

    assert result.refusal_rate == 1.0
    assert result.warning_rates["overlap_too_small"] == 1.0


def test_it_estimates_five_lists() -> None:
    result = simulate(BY_NAME["5 independent lists"], runs=8, seed=9)

    assert result.estimated == 8
    assert abs(result.relative_bias) < 0.1
