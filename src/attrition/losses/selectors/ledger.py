"""The tracker-style page of a conflict: per side, per category, per model, numbered evidence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.claims.models import Claim
from attrition.evidence.models import Evidence
from attrition.losses.choices import FATE_ORDER, ReviewStatus
from attrition.losses.models import Depiction, Loss
from attrition.losses.tally import TallyResult, TallyRule, public_losses, tally_count


@dataclass
class FateCounts:
    """A total and its split by fate, in the order trackers list fates."""

    total: int
    fates: list[tuple[str, int]]

    @property
    def split(self) -> str:
        """Return "destroyed: 3, damaged: 0, abandoned: 1, captured: 8"."""
        return ", ".join(f"{fate}: {n}" for fate, n in self.fates)

    @property
    def split_nonzero(self) -> str:
        """Return the split without the fates that count zero."""
        return ", ".join(f"{fate}: {n}" for fate, n in self.fates if n)

    def sentence(self, name: str) -> str:
        """Return the tracker headline: "Afghan forces: 12, of which destroyed: 3, ..."."""
        return f"{name}: {self.total}, of which {self.split}"


def _fate_counts(total: int, by_fate: dict[str, int]) -> FateCounts:
    return FateCounts(total=total, fates=[(f.value, by_fate.get(f.value, 0)) for f in FATE_ORDER])


@dataclass
class EvidenceLink:
    """One evidence link under a model line: "(2 and 3, captured)"."""

    evidence: Evidence
    numbers: list[int]
    fate: str
    is_sample: bool

    @property
    def label(self) -> str:
        nums = [str(n) for n in self.numbers]
        joined = nums[0] if len(nums) == 1 else ", ".join(nums[:-1]) + " and " + nums[-1]
        return f"{joined}, {self.fate}"


@dataclass
class ModelLine:
    """A model's line in a category: its total and its numbered evidence links."""

    model: EquipmentModel
    total: int
    links: list[EvidenceLink]
    undocumented: list[int]
    losses: list[Loss]


@dataclass
class CategoryBlock:
    category: Category
    counts: FateCounts
    lines: list[ModelLine] = field(default_factory=list)


@dataclass
class SideBlock:
    side: Side
    counts: FateCounts
    categories: list[CategoryBlock]


@dataclass
class ConflictLedger:
    """Everything the public conflict page shows, computed from verified losses."""

    conflict: Conflict
    sides: list[SideBlock]
    has_sample: bool
    tally: TallyResult
    claims: list[Claim]


def _model_lines(losses: list[Loss]) -> list[ModelLine]:
    """Number each model's losses 1..n and group the numbers under each evidence link by fate."""
    by_model: dict[int, list[Loss]] = defaultdict(list)
    for loss in losses:
        by_model[loss.model_id].append(loss)
    lines = []
    for model_losses in by_model.values():
        model_losses.sort(key=lambda x: (x.first_seen is None, x.first_seen, x.pk))
        groups: dict[tuple[int, str], list[int]] = {}
        evidence_of: dict[int, Evidence] = {}
        undocumented = []
        for number, loss in enumerate(model_losses, start=1):
            depictions = loss.public_depictions  # type: ignore[attr-defined]
            if not depictions:
                undocumented.append(number)
            for depiction in depictions:
                evidence_of[depiction.evidence_id] = depiction.evidence
                numbers = groups.setdefault((depiction.evidence_id, loss.fate), [])
                if number not in numbers:
                    numbers.append(number)
        links = [
            EvidenceLink(
                evidence=evidence_of[evidence_id],
                numbers=numbers,
                fate=fate,
                is_sample=evidence_of[evidence_id].is_sample,
            )
            for (evidence_id, fate), numbers in groups.items()
        ]
        links.sort(key=lambda link: (link.numbers[0], link.fate))
        lines.append(
            ModelLine(
                model=model_losses[0].model,
                total=len(model_losses),
                links=links,
                undocumented=undocumented,
                losses=model_losses,
            )
        )
    lines.sort(key=lambda line: (-line.total, line.model.name))
    return lines


def conflict_ledger(*, conflict: Conflict) -> ConflictLedger:
    """Return the tracker-style ledger of a conflict: per side, per category, per model."""
    tally = tally_count(conflict=conflict, rule=TallyRule())
    depictions = Depiction.objects.filter(
        deleted_at__isnull=True, evidence__deleted_at__isnull=True
    ).select_related("evidence")
    losses = list(
        public_losses()
        .filter(conflict=conflict)
        .order_by()  # numbered per model below; an ORDER BY here only costs the planner
        .select_related("model")
        .only(
            "id",
            "side_id",
            "fate",
            "first_seen",
            "is_sample",
            "model__id",
            "model__name",
            "model__slug",
            "model__category_id",
        )
        .prefetch_related(Prefetch("depictions", queryset=depictions, to_attr="public_depictions"))
    )
    categories = {c.pk: c for c in Category.objects.all()}
    sides = []
    for side in Side.objects.filter(conflict=conflict):
        side_losses = [x for x in losses if x.side_id == side.pk]
        by_category: dict[int, list[Loss]] = defaultdict(list)
        for loss in side_losses:
            by_category[loss.model.category_id].append(loss)
        blocks = []
        for category_id, category_losses in by_category.items():
            by_fate = _split(category_losses)
            blocks.append(
                CategoryBlock(
                    category=categories[category_id],
                    counts=_fate_counts(len(category_losses), by_fate),
                    lines=_model_lines(category_losses),
                )
            )
        blocks.sort(key=lambda b: (b.category.order, b.category.name))
        side_by_fate = {f.value: tally.by_side_fate.get((side.pk, f.value), 0) for f in FATE_ORDER}
        sides.append(
            SideBlock(
                side=side,
                counts=_fate_counts(tally.by_side.get(side.pk, 0), side_by_fate),
                categories=blocks,
            )
        )
    claims = list(
        Claim.objects.filter(
            conflict=conflict, status=ReviewStatus.VERIFIED, deleted_at__isnull=True
        ).order_by("-claimed_on")
    )
    return ConflictLedger(
        conflict=conflict,
        sides=sides,
        has_sample=any(x.is_sample for x in losses) or any(c.is_sample for c in claims),
        tally=tally,
        claims=claims,
    )


def _split(losses: list[Loss]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for loss in losses:
        counts[loss.fate] += 1
    return counts
