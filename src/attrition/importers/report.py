"""What an import did or would do: counts, rejections with reasons, and the source's own figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from attrition.losses.choices import FATE_ORDER


@dataclass(frozen=True)
class Rejection:
    """Something the import left out, and why."""

    what: str
    reason: str


@dataclass(frozen=True)
class Change:
    """A record the import changes, and what changes in it."""

    external_id: str
    what: str


@dataclass
class Check:
    """A stated figure of the source beside the parsed count, with what explains a difference."""

    scope: str
    stated: int
    parsed: int
    stated_by_fate: dict[str, int] = field(default_factory=dict)
    parsed_by_fate: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    miscounted: list[str] = field(default_factory=list)
    explained: bool = True
    # What `missing`, `duplicates` and `miscounted` hold, in words, if not Oryx page numbers.
    labels: tuple[str, str, str] | None = None

    @property
    def difference(self) -> int:
        """Return the stated figure minus the parsed count."""
        return self.stated - self.parsed


@dataclass
class ImportReport:
    """The outcome of one import (or of its dry run): what is created, updated, left, rejected."""

    importer: str
    source: str
    dry_run: bool = True
    applied: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    models_created: list[str] = field(default_factory=list)
    claims_created: list[str] = field(default_factory=list)
    claims_unchanged: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Items of this import attached to a loss another source recorded with the same evidence.
    linked: list[str] = field(default_factory=list)
    # Items citing another source's evidence that were not linked, and why (a new loss instead).
    link_conflicts: list[str] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        """Return whether applying the import writes no new, changed or removed records."""
        return not (
            self.created or self.updated or self.gone or self.models_created or self.claims_created
        )

    def counts(self) -> dict[str, int]:
        """Return the headline counts, for summaries and tests."""
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": len(self.rejected),
            "gone": len(self.gone),
            "linked": len(self.linked),
            "link_conflicts": len(self.link_conflicts),
            "models_created": len(self.models_created),
            "claims_created": len(self.claims_created),
        }

    def text(self, *, limit: int = 20) -> str:
        """Return the report as plain text, lists cut to `limit` entries each."""
        verb = "would" if not self.applied else "did"
        lines = [
            f"import {self.importer} from {self.source}"
            + (" (dry run: nothing written)" if not self.applied else ""),
            f"items: {len(self.created)} new, {len(self.updated)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.rejected)} rejected, "
            f"{len(self.gone)} no longer in the source (removed); {len(self.linked)} linked to "
            f"another source's loss, {len(self.link_conflicts)} not linked (conflicts)",
            f"models {verb} create: {len(self.models_created)}; claims {verb} record: "
            f"{len(self.claims_created)} new, {len(self.claims_unchanged)} unchanged",
        ]
        lines += _section("new models", self.models_created, limit)
        lines += _section("changed", [f"{c.external_id}: {c.what}" for c in self.updated], limit)
        lines += _section("rejected", [f"{r.what}: {r.reason}" for r in self.rejected], limit)
        lines += _section("no longer in the source (marked removed, kept)", self.gone, limit)
        lines += _section("linked to another source's loss", self.linked, limit)
        lines += _section("not linked (conflicts)", self.link_conflicts, limit)
        lines += _section("notes", self.notes, limit)
        lines.append("stated totals against parsed items:")
        for check in self.checks:
            lines.append("  " + _check_line(check))
            names = check.labels or (
                "missing numbers",
                "numbers in several links (one item each)",
                "model lines whose count differs",
            )
            for name, values in zip(
                names, (check.missing, check.duplicates, check.miscounted), strict=True
            ):
                if values and check.difference:
                    shown = ", ".join(values[:limit])
                    more = f" and {len(values) - limit} more" if len(values) > limit else ""
                    lines.append(f"      {name}: {shown}{more}")
        unexplained = [c.scope for c in self.checks if not c.explained]
        if unexplained:
            lines.append("UNEXPLAINED differences: " + "; ".join(unexplained))
        return "\n".join(lines) + "\n"


def _section(title: str, values: list[str], limit: int) -> list[str]:
    if not values:
        return []
    lines = [f"{title} ({len(values)}):"]
    lines += [f"  {v}" for v in values[:limit]]
    if len(values) > limit:
        lines.append(f"  ... and {len(values) - limit} more")
    return lines


def _check_line(check: Check) -> str:
    order = [f.value for f in FATE_ORDER]
    fates = sorted(set(check.stated_by_fate) | set(check.parsed_by_fate), key=order.index)
    by_fate = ", ".join(
        f"{f} {check.stated_by_fate.get(f, 0)}/{check.parsed_by_fate.get(f, 0)}" for f in fates
    )
    mark = "ok" if check.difference == 0 else ("explained" if check.explained else "UNEXPLAINED")
    return (
        f"{check.scope}: stated {check.stated}, parsed {check.parsed} "
        f"({check.difference:+d}, {mark}; {by_fate})"
    )
