"""Multiple systems estimation: the total of a population from the overlap of independent lists.

Two lists: Chapman's estimator with Seber's variance and Chao's log-normal interval on the
unseen part. Three to five lists: log-linear (Poisson) models of the observed capture-history
cells with main effects and a chosen set of two-list interactions, selected by AIC (every set for
up to four lists, forward steps for five); the unseen cell is the model's intercept. Every
estimate carries the reasons it was refused or why it should be read with care.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Pattern = tuple[int, ...]
Pair = tuple[int, int]

LEVEL = 0.95
# Refuse below this many items seen on two lists or more: the overlap carries the estimate.
MIN_OVERLAP = 5
# Warn below this many: the interval is wide and the estimator's small-sample bias shows.
SMALL_OVERLAP = 20
# Warn when more than this share of the estimated total is unseen (extrapolated).
EXTRAPOLATION_SHARE = 0.8
# Models within this AIC of the best are "also supported"; their spread is reported.
SUPPORTED_DELTA_AIC = 2.0
MAX_LISTS = 5


@dataclass(frozen=True)
class Caveat:
    """A reason to refuse an estimate, or to read it with care: a stable code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Histories:
    """Capture histories: for each pattern of lists (1 = on that list), how many items had it."""

    lists: tuple[str, ...]
    counts: dict[Pattern, int]

    @classmethod
    def from_items(cls, lists: list[str], items: list[set[str]]) -> Histories:
        """Return the histories of items, each given as the set of list names it appears on."""
        counts: dict[Pattern, int] = {}
        for on in items:
            pattern = tuple(int(name in on) for name in lists)
            if any(pattern):
                counts[pattern] = counts.get(pattern, 0) + 1
        return cls(lists=tuple(lists), counts=counts)

    @property
    def observed(self) -> int:
        return sum(self.counts.values())

    def size(self, i: int) -> int:
        """Return how many items list i holds."""
        return sum(n for p, n in self.counts.items() if p[i])

    def pair_overlap(self, i: int, j: int) -> int:
        """Return how many items lists i and j share."""
        return sum(n for p, n in self.counts.items() if p[i] and p[j])

    def multiply_listed(self) -> int:
        """Return how many items are on two lists or more."""
        return sum(n for p, n in self.counts.items() if sum(p) >= 2)


@dataclass
class ModelFit:
    """One log-linear model: its interactions, fit and estimate."""

    interactions: tuple[Pair, ...]
    aic: float
    unseen: float
    log_se: float
    deviance: float
    df: int


@dataclass
class Estimate:
    """An estimated total with its interval, or a refusal; always with its caveats."""

    method: str
    lists: list[str]
    observed: int
    total: float | None = None
    low: float | None = None
    high: float | None = None
    level: float = LEVEL
    model: str = ""
    refusals: list[Caveat] = field(default_factory=list)
    warnings: list[Caveat] = field(default_factory=list)
    supported_models: list[str] = field(default_factory=list)
    list_sizes: dict[str, int] = field(default_factory=dict)
    multiply_listed: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    @property
    def unseen(self) -> float | None:
        return None if self.total is None else self.total - self.observed

    def covers(self, truth: float) -> bool:
        """Return whether the interval holds `truth` (False when refused)."""
        return self.low is not None and self.high is not None and self.low <= truth <= self.high


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _lognormal_interval(
    observed: int, unseen: float, variance: float, z: float
) -> tuple[float, float]:
    """Return Chao's interval: the unseen part is taken as log-normal, the seen part as known."""
    if unseen <= 0 or variance <= 0:
        spread = z * math.sqrt(max(variance, 0.0))
        return float(observed), observed + max(unseen, 0.0) + spread
    c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
    return observed + unseen / c, observed + unseen * c


def _basic_refusals(h: Histories) -> list[Caveat]:
    refusals = []
    if len(h.lists) < 2:
        refusals.append(
            Caveat("too_few_lists", "an estimate needs at least two lists that overlap")
        )
    if len(h.lists) > MAX_LISTS:
        refusals.append(
            Caveat("too_many_lists", f"at most {MAX_LISTS} lists: merge or leave out the smallest")
        )
    overlap = h.multiply_listed()
    if len(h.lists) >= 2 and overlap < MIN_OVERLAP:
        refusals.append(
            Caveat(
                "overlap_too_small",
                f"only {overlap} item(s) appear on more than one list (at least {MIN_OVERLAP} "
                "are needed): the overlap is what the estimate rests on, and with so few the "
                "total could be almost anything",
            )
        )
    return refusals


def _common_warnings(h: Histories, total: float) -> list[Caveat]:
    found = []
    overlap = h.multiply_listed()
    if overlap < SMALL_OVERLAP:
        found.append(
            Caveat(
                "small_overlap",
                f"only {overlap} items appear on more than one list: the interval is wide and "
                "the estimate may be biased",
            )
        )
    if total > 0 and (total - h.observed) / total > EXTRAPOLATION_SHARE:
        found.append(
            Caveat(
                "mostly_unseen",
                f"more than {EXTRAPOLATION_SHARE:.0%} of the estimated total was seen on no "
                "list: the figure is an extrapolation that rests entirely on the model",
            )
        )
    return found


def chapman(h: Histories, *, level: float = LEVEL) -> Estimate:
    """Return Chapman's estimate of the total from two lists, with Chao's interval."""
    est = Estimate(method="chapman", lists=list(h.lists), observed=h.observed, level=level)
    est.list_sizes = {name: h.size(i) for i, name in enumerate(h.lists)}
    est.multiply_listed = h.multiply_listed()
    est.model = "independence of the two lists"
    est.refusals = _basic_refusals(h)
    if len(h.lists) != 2:
        est.refusals.append(Caveat("not_two_lists", "Chapman's estimator takes exactly two lists"))
    if est.refused:
        return est
    n1, n2, m = h.size(0), h.size(1), h.pair_overlap(0, 1)
    total = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    est.total = total
    est.low, est.high = _lognormal_interval(h.observed, total - h.observed, variance, _z(level))
    est.warnings = [
        Caveat(
            "independence_untestable",
            "with two lists their independence cannot be tested: if items seen on one list are "
            "more likely to be on the other (shared sources, reposts, equally visible items), "
            "the estimate is too low",
        ),
        *_common_warnings(h, total),
    ]
    return est


def _design(patterns: list[Pattern], interactions: tuple[Pair, ...]) -> np.ndarray[Any, Any]:
    rows = []
    for p in patterns:
        rows.append([1.0, *map(float, p), *(float(p[i] * p[j]) for i, j in interactions)])
    return np.array(rows)


def _glm() -> Any:
    """Return statsmodels' GLM and Poisson family (imported late: it takes a second)."""
    with warnings.catch_warnings():
        # statsmodels 0.14 uses a pandas decorator that pandas 3 deprecates, at import time.
        warnings.simplefilter("ignore", DeprecationWarning)
        from statsmodels.genmod import families
        from statsmodels.genmod.generalized_linear_model import GLM
    return GLM, families.Poisson


def _fit(h: Histories, interactions: tuple[Pair, ...]) -> ModelFit | None:
    """Fit one Poisson log-linear model; return None when it cannot be fitted cleanly."""
    glm, poisson = _glm()
    k = len(h.lists)
    patterns = [p for p in itertools.product((0, 1), repeat=k) if any(p)]
    y = np.array([h.counts.get(p, 0) for p in patterns], dtype=float)
    x = _design(patterns, interactions)
    df = len(patterns) - x.shape[1]
    if df < 0:
        return None
    with warnings.catch_warnings():
        # A warning here (non-convergence, separation, overflow) means the fit is not to be used.
        warnings.simplefilter("error")
        try:
            result = glm(y, x, family=poisson()).fit()
            b0, se0 = float(result.params[0]), float(result.bse[0])
        except (Warning, ValueError, np.linalg.LinAlgError, OverflowError):
            return None
    if not (math.isfinite(b0) and math.isfinite(se0)) or b0 > 30:
        return None
    return ModelFit(
        interactions=interactions,
        aic=float(result.aic),
        unseen=math.exp(b0),
        log_se=se0,
        deviance=float(result.deviance),
        df=df,
    )


def _candidates(h: Histories) -> list[ModelFit]:
    """Fit every model with a subset of two-list interactions (forward steps for 5 lists)."""
    k = len(h.lists)
    # An interaction of two lists that share nothing cannot be estimated.
    pairs = [(i, j) for i, j in itertools.combinations(range(k), 2) if h.pair_overlap(i, j) > 0]
    fits: list[ModelFit] = []
    if k <= 4:
        for r in range(len(pairs) + 1):
            for chosen in itertools.combinations(pairs, r):
                fit = _fit(h, chosen)
                if fit is not None:
                    fits.append(fit)
        return fits
    current: tuple[Pair, ...] = ()
    best = _fit(h, current)
    if best is None:
        return fits
    fits.append(best)
    while True:
        trials = [f for p in pairs if p not in current if (f := _fit(h, (*current, p))) is not None]
        fits.extend(trials)
        better = min(trials, key=lambda f: f.aic, default=None)
        if better is None or better.aic >= best.aic:
            return fits
        best, current = better, better.interactions


def model_name(lists: tuple[str, ...], interactions: tuple[Pair, ...]) -> str:
    """Return a model in words: "independence" or the list pairs it lets depend on each other."""
    if not interactions:
        return "independence of all lists"
    pairs = ", ".join(f"{lists[i]} x {lists[j]}" for i, j in interactions)
    return f"dependence between {pairs}"


def loglinear(h: Histories, *, level: float = LEVEL) -> Estimate:
    """Return the log-linear estimate of the total from three to five lists, model by AIC."""
    est = Estimate(method="log-linear", lists=list(h.lists), observed=h.observed, level=level)
    est.list_sizes = {name: h.size(i) for i, name in enumerate(h.lists)}
    est.multiply_listed = h.multiply_listed()
    est.refusals = _basic_refusals(h)
    if len(h.lists) < 3:
        est.refusals.append(Caveat("too_few_lists", "log-linear models need three lists or more"))
    if est.refused:
        return est
    fits = _candidates(h)
    if not fits:
        est.refusals.append(
            Caveat("no_model_fits", "no log-linear model could be fitted to these lists")
        )
        return est
    best = min(fits, key=lambda f: f.aic)
    log_unseen, log_se = _averaged(fits)
    z = _z(level)
    est.model = model_name(h.lists, best.interactions)
    est.total = h.observed + math.exp(log_unseen)
    est.low = h.observed + math.exp(log_unseen - z * log_se)
    est.high = h.observed + math.exp(log_unseen + z * log_se)
    supported = sorted(
        (f for f in fits if f.aic - best.aic <= SUPPORTED_DELTA_AIC), key=lambda f: f.aic
    )
    est.supported_models = [model_name(h.lists, f.interactions) for f in supported]
    est.warnings = _loglinear_warnings(h, best, supported)
    est.warnings += _common_warnings(h, est.total)
    return est


def _averaged(fits: list[ModelFit]) -> tuple[float, float]:
    """Return the AIC-weighted log of the unseen count and its standard error (Buckland 1997).

    Averaging carries the uncertainty of choosing a model into the interval; the best model's
    interval alone covers the truth too rarely (seen in the simulations: 0.81 for four lists).
    """
    best = min(f.aic for f in fits)
    weights = np.array([math.exp(-(f.aic - best) / 2) for f in fits])
    weights /= weights.sum()
    logs = np.array([math.log(f.unseen) if f.unseen > 0 else -30.0 for f in fits])
    ses = np.array([f.log_se for f in fits])
    mean = float((weights * logs).sum())
    se = float((weights * np.sqrt(ses**2 + (logs - mean) ** 2)).sum())
    return mean, se


def _all_pairs_positive(h: Histories, *, alpha: float = 0.05) -> bool:
    """Return whether every pair of lists is positively associated, one clearly so.

    Among the items some other list caught, lists i and j are independent if capture is; their
    odds ratio there is estimable (the items on neither i nor j are seen, through the others).
    """
    from scipy.stats import fisher_exact

    k = len(h.lists)
    clear = False
    for i, j in itertools.combinations(range(k), 2):
        table = [[0, 0], [0, 0]]
        for pattern, n in h.counts.items():
            if any(pattern[o] for o in range(k) if o not in (i, j)):
                table[1 - pattern[i]][1 - pattern[j]] += n
        ratio, p_value = fisher_exact(table, alternative="greater")
        if not ratio > 1:
            return False
        clear = clear or p_value < alpha
    return clear


def _loglinear_warnings(h: Histories, best: ModelFit, supported: list[ModelFit]) -> list[Caveat]:
    found = []
    # Only when independence itself is not among the well-supported models: chance alone
    # picks some interaction in about a third of independent draws.
    if best.interactions and all(f.interactions for f in supported):
        found.append(
            Caveat(
                "dependent_lists",
                f"the lists are not independent ({model_name(h.lists, best.interactions)}); the "
                "model allows for these dependences, but a dependence shared by all the lists, "
                "or items that are simply easier to see than others, cannot be told apart from "
                "the unseen total and would make it too low",
            )
        )
    if _all_pairs_positive(h):
        found.append(
            Caveat(
                "heterogeneous_capture",
                "every pair of lists shares more items than chance would give, which is what "
                "happens when some items are easier to see than others (big, burning, filmed "
                "near a road): no list model corrects for that, and the total is then too low",
            )
        )
    totals = [h.observed + f.unseen for f in supported]
    if len(totals) > 1 and max(totals) > 1.5 * min(totals):
        found.append(
            Caveat(
                "model_uncertain",
                f"{len(totals)} models fit about equally well but give totals from "
                f"{min(totals):,.0f} to {max(totals):,.0f}: the data cannot choose between them",
            )
        )
    if best.log_se > 1.0 or min(f.log_se for f in supported) > 1.0:
        found.append(
            Caveat(
                "unstable",
                "the unseen part is very poorly determined (its interval spans more than a "
                "factor of 50): do not quote the point estimate alone",
            )
        )
    return found


def estimate(h: Histories, *, level: float = LEVEL) -> Estimate:
    """Return the estimate for the number of lists: Chapman for two, log-linear for more."""
    return chapman(h, level=level) if len(h.lists) == 2 else loglinear(h, level=level)
