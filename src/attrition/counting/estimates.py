"""Estimates of the undocumented: the ledger's sources as lists over the same deduplicated losses.

A list is every loss one source shows: a platform, a channel, an importer (another tracker), or
one contributor's collection. The lists are the largest few of the chosen kind; an item shown
only by other sources is documented but counts as unseen by these lists, so the estimate is of
the whole population, documented or not. Stratified estimates (one per category) are summed
only when every stratum could be estimated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from attrition.catalog.models import Category, Conflict
from attrition.counting.lists import KINDS, memberships, sources_version
from attrition.counting.mse import LEVEL, MAX_LISTS, Caveat, Estimate, Histories, _z, estimate
from attrition.counting.selectors import pinned_moment, tally_rule_at
from attrition.errors import InvalidInput
from attrition.losses.models import Tally
from attrition.losses.tally import TallyRule, losses_selected, model_categories

__all__ = ["KINDS", "EstimateReport", "StratumEstimate", "tally_estimate", "undocumented_estimate"]


@dataclass
class StratumEstimate:
    key: str
    label: str
    documented: int
    estimate: Estimate


@dataclass
class EstimateReport:
    """The documented count, the lists used, the pooled and stratified estimates and caveats."""

    kind: str
    documented: int
    lists: list[str]
    estimate: Estimate
    strata: list[StratumEstimate] = field(default_factory=list)
    stratified_total: float | None = None
    stratified_low: float | None = None
    stratified_high: float | None = None
    stratified_refusal: str = ""
    notes: list[Caveat] = field(default_factory=list)
    as_of: dt.datetime | None = None
    pinned: bool = False


def _largest(memberships: dict[int, set[str]], limit: int) -> list[str]:
    sizes: dict[str, int] = defaultdict(int)
    for names in memberships.values():
        for name in names:
            sizes[name] += 1
    return sorted(sizes, key=lambda n: (-sizes[n], n))[:limit]


def undocumented_estimate(
    *,
    conflict: Conflict,
    rule: TallyRule | None = None,
    kind: str = "platform",
    lists: list[str] | None = None,
    max_lists: int = 4,
    stratify: bool = False,
    level: float = LEVEL,
    as_of: dt.datetime | None = None,
) -> EstimateReport:
    """Return the estimated total of the rule's losses from the overlap of independent lists.

    With `as_of`, the losses, their categories and their sources are taken as they stood then;
    without, the report carries the moment that reproduces it (`as_of`, not `pinned`).
    """
    if kind not in KINDS:
        raise InvalidInput(f"lists are drawn from one of: {', '.join(KINDS)}")
    if not 2 <= max_lists <= MAX_LISTS:
        raise InvalidInput(f"max_lists must be 2 to {MAX_LISTS}")
    category_of = model_categories(as_of=as_of)
    rows = losses_selected(conflict=conflict, rule=rule, as_of=as_of, category_of=category_of)
    id_field = "pk" if as_of is None else "record_id"
    selected = dict(rows.order_by().values_list(id_field, "model_id"))
    members = memberships(kind=kind, loss_ids=list(selected), as_of=as_of)
    names = lists or _largest(members, max_lists)
    items = {pk: members.get(pk, set()) for pk in selected}
    pooled = estimate(Histories.from_items(names, list(items.values())), level=level)
    report = EstimateReport(kind=kind, documented=len(selected), lists=names, estimate=pooled)
    report.as_of, report.pinned = (as_of, True) if as_of is not None else (sources_version(), False)
    report.notes = _notes(kind, len(selected), pooled)
    if stratify:
        groups: dict[int, list[int]] = defaultdict(list)
        for pk, model_id in selected.items():
            groups[category_of.get(model_id, 0)].append(pk)
        _stratify(report, groups, items, names, level)
    return report


def tally_estimate(
    *, tally: Tally, as_of: dt.datetime | None = None, **options: Any
) -> EstimateReport:
    """Return the estimate of a saved tally's scope, with its rule as it stood at `as_of`.

    Made now, its moment covers the tally's own latest edit too, so that it reproduces.
    """
    report = undocumented_estimate(
        conflict=tally.conflict,
        rule=tally_rule_at(tally=tally, as_of=as_of),
        as_of=as_of,
        **options,
    )
    if not report.pinned:
        report.as_of = pinned_moment(tally=tally, also=report.as_of)
    return report


def _notes(kind: str, documented: int, pooled: Estimate) -> list[Caveat]:
    notes = [
        Caveat(
            "lists_assumed_independent",
            f"each {kind} is taken as a separate list; reposts between them make lists "
            "dependent, and an estimate over dependent lists is too low",
        )
    ]
    if pooled.total is not None and pooled.total < documented:
        notes.append(
            Caveat(
                "below_documented",
                f"the estimate ({pooled.total:,.0f}) is below the documented count "
                f"({documented:,}): the lists miss many documented items, so they say little "
                "about undocumented ones",
            )
        )
    return notes


def _stratify(
    report: EstimateReport,
    groups: dict[int, list[int]],
    items: dict[int, set[str]],
    names: list[str],
    level: float,
) -> None:
    categories = {c.pk: c for c in Category.objects.filter(pk__in=groups)}
    unknown = Category(slug="unknown", name="Unknown category", order=65535)
    for category_id, pks in sorted(
        groups.items(), key=lambda g: categories.get(g[0], unknown).order
    ):
        h = Histories.from_items(names, [items[pk] for pk in pks])
        category = categories.get(category_id, unknown)
        report.strata.append(
            StratumEstimate(
                key=category.slug,
                label=category.name,
                documented=len(pks),
                estimate=estimate(h, level=level),
            )
        )
    refused = [s.label for s in report.strata if s.estimate.refused]
    if refused:
        report.stratified_refusal = (
            "no stratified total: these categories could not be estimated on their own: "
            + ", ".join(refused)
        )
        return
    z = _z(level)
    unseen = variance = 0.0
    observed = 0
    for s in report.strata:
        e = s.estimate
        if e.total is None or e.low is None or e.high is None:
            continue  # refused strata stopped the sum above
        observed += e.observed
        unseen += e.total - e.observed
        # Each stratum's spread, read back from its interval on the scale of counts.
        variance += ((e.high - e.low) / (2 * z)) ** 2
    report.stratified_total = observed + unseen
    if unseen > 0 and variance > 0:
        c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
        report.stratified_low, report.stratified_high = observed + unseen / c, observed + unseen * c
    else:
        report.stratified_low = report.stratified_high = float(observed)
