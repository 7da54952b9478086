"""Simulated populations of known size, to measure the estimators: coverage, bias, warnings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from attrition.counting.mse import LEVEL, Histories, Pattern, estimate


@dataclass(frozen=True)
class Scenario:
    """A population and how its lists catch items.

    `p` is each list's chance of catching an item; `groups` splits the population into shares
    whose chances are multiplied (heterogeneous capture); `follows` makes list j catch an item
    with chance q whenever list i (i < j) caught it (dependent lists).
    """

    name: str
    total: int
    p: tuple[float, ...]
    groups: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    follows: tuple[tuple[int, int, float], ...] = ()


@dataclass
class Summary:
    """How the estimator did over many simulated runs of one scenario."""

    scenario: str
    runs: int
    estimated: int
    coverage: float
    relative_bias: float
    median_relative_width: float
    refusal_rate: float
    warning_rates: dict[str, float] = field(default_factory=dict)


def histories_draw(s: Scenario, rng: np.random.Generator) -> Histories:
    """Return one draw of the lists' capture histories for the scenario."""
    k = len(s.p)
    shares = np.array([g[0] for g in s.groups])
    multipliers = np.array([g[1] for g in s.groups])
    group = rng.choice(len(s.groups), size=s.total, p=shares / shares.sum())
    caught = np.zeros((s.total, k), dtype=bool)
    for j in range(k):
        chance = np.minimum(1.0, s.p[j] * multipliers[group])
        for i, target, q in s.follows:
            if target == j:
                chance = np.where(caught[:, i], q, chance)
        caught[:, j] = rng.random(s.total) < chance
    seen = caught[caught.any(axis=1)]
    counts: Counter[Pattern] = Counter(tuple(int(v) for v in row) for row in seen)
    return Histories(lists=tuple(f"list {j + 1}" for j in range(k)), counts=dict(counts))


def simulate(s: Scenario, *, runs: int, seed: int, level: float = LEVEL) -> Summary:
    """Return coverage, bias, width, refusals and warnings of the estimator over `runs` draws."""
    rng = np.random.default_rng(seed)
    covered = refused = 0
    errors: list[float] = []
    widths: list[float] = []
    warned: Counter[str] = Counter()
    for _ in range(runs):
        est = estimate(histories_draw(s, rng), level=level)
        for caveat in est.warnings:
            warned[caveat.code] += 1
        if est.refused or est.total is None or est.low is None or est.high is None:
            refused += 1
            for caveat in est.refusals:
                warned[caveat.code] += 1
            continue
        covered += est.covers(s.total)
        errors.append((est.total - s.total) / s.total)
        widths.append((est.high - est.low) / s.total)
    done = len(errors)
    return Summary(
        scenario=s.name,
        runs=runs,
        estimated=done,
        coverage=covered / done if done else 0.0,
        relative_bias=float(np.mean(errors)) if done else float("nan"),
        median_relative_width=float(np.median(widths)) if done else float("nan"),
        refusal_rate=refused / runs,
        warning_rates={code: n / runs for code, n in sorted(warned.items())},
    )


SCENARIOS = [
    Scenario("2 independent lists", 1000, (0.3, 0.4)),
    Scenario("3 independent lists", 600, (0.2, 0.3, 0.25)),
    Scenario("4 independent lists", 500, (0.2, 0.25, 0.3, 0.15)),
    Scenario("5 independent lists", 500, (0.2, 0.25, 0.3, 0.15, 0.2)),
    Scenario("3 lists, list 2 copies list 1", 600, (0.25, 0.25, 0.3), follows=((0, 1, 0.7),)),
    Scenario(
        "3 lists, heterogeneous capture",
        800,
        (0.15, 0.15, 0.15),
        groups=((0.7, 0.5), (0.3, 3.5)),
    ),
    Scenario("2 lists, list 2 copies list 1", 1000, (0.3, 0.3), follows=((0, 1, 0.8),)),
    Scenario("3 lists, hardly any overlap", 2000, (0.01, 0.01, 0.01)),
]


def main() -> None:
    """Print a table of every scenario (python -m attrition.counting.simulate)."""
    print("| scenario | runs | coverage | relative bias | median width | refused | warnings |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in SCENARIOS:
        r = simulate(s, runs=200, seed=1)
        warned = ", ".join(f"{code} {share:.0%}" for code, share in r.warning_rates.items())
        print(
            f"| {r.scenario} | {r.runs} | {r.coverage:.2f} | {r.relative_bias:+.3f} | "
            f"{r.median_relative_width:.2f} | {r.refusal_rate:.0%} | {warned} |"
        )


if __name__ == "__main__":
    main()
