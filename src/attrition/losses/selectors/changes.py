"""What changed in the ledger: its data version, newly verified losses, counts then and now."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Max, Min

from attrition.catalog.models import Conflict, Side
from attrition.losses.choices import FATE_ORDER, ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.selectors.filtering import public_ledger
from attrition.losses.tally import TallyResult, losses_selected, tally_count

# --- The data version: what ETags, Last-Modified and snapshots are keyed on --------------------


def ledger_changed_at() -> dt.datetime | None:
    """Return when any loss last changed (any status: a change may remove a public one)."""
    changed: dt.datetime | None = Loss.objects.aggregate(last=Max("updated_at"))["last"]
    return changed


# --- What changed: newly verified losses, and the counts now against a past moment -------------


def losses_recently_verified(
    *, conflict: Conflict | None = None, since: dt.datetime | None = None, limit: int = 50
) -> list[tuple[Loss, dt.datetime]]:
    """Return public losses with the moment each was first verified, latest first."""
    versions = LossVersion._default_manager.filter(status=ReviewStatus.VERIFIED)
    if conflict is not None:
        versions = versions.filter(conflict_id=conflict.pk)
    if since is not None:
        # Only a record with a verified version since then can have been first verified since:
        # the index on valid_from finds those few instead of grouping every version.
        recent = versions.filter(valid_from__gte=since).values("record_id")
        versions = versions.filter(record_id__in=recent)
    firsts = versions.order_by().values("record_id").annotate(at=Min("valid_from"))
    if since is not None:
        firsts = firsts.filter(at__gte=since)
    found: dict[int, dt.datetime] = {}
    # Read a few more than asked: some first verified are no longer public.
    for row in firsts.order_by("-at", "-record_id")[: limit * 2 + 10]:
        found[row["record_id"]] = row["at"]
    losses = (
        public_ledger()
        .filter(pk__in=list(found))
        .select_related("conflict", "side", "model__category", "admin_unit")
        .defer("admin_unit__geometry")
    )
    pairs = [(loss, found[loss.pk]) for loss in losses]
    pairs.sort(key=lambda pair: (pair[1], pair[0].pk), reverse=True)
    return pairs[:limit]


NEW_SHOWN = 20  # newly verified losses listed per period


@dataclass
class SideChange:
    side: Side
    now: int
    then: int

    @property
    def delta(self) -> int:
        return self.now - self.then


@dataclass
class LedgerChange:
    """How a conflict's counts moved since a past moment, and what was verified since."""

    label: str
    since: dt.datetime
    total_now: int
    total_then: int
    sides: list[SideChange]
    fates: list[tuple[str, int]]  # (fate, change)
    new: list[tuple[Loss, dt.datetime]]

    @property
    def delta(self) -> int:
        return self.total_now - self.total_then


def ledger_changes(
    *,
    conflict: Conflict,
    now: dt.datetime,
    periods: list[tuple[str, dt.timedelta]],
    current: TallyResult | None = None,
) -> list[LedgerChange]:
    """Return, per (label, period back), the counts then against now and the newly verified.

    `current` is today's `tally_count(conflict=conflict)` when the caller has it already.
    """
    current = current or tally_count(conflict=conflict)
    sides = list(Side.objects.filter(conflict=conflict))
    # The newly verified of the longest period, latest first: a shorter period's are its first
    # ones (the latest verified are the latest of any period that holds them).
    longest = now - max(back for _, back in periods) if periods else now
    newest = losses_recently_verified(conflict=conflict, since=longest, limit=NEW_SHOWN)
    changes = []
    for label, back in periods:
        since = now - back
        by_side, by_fate = _counts_then(conflict, since, current)
        changes.append(
            LedgerChange(
                label=label,
                since=since,
                total_now=current.total,
                total_then=sum(by_fate.values()),
                sides=[
                    SideChange(side=s, now=current.by_side.get(s.pk, 0), then=by_side[s.pk])
                    for s in sides
                ],
                fates=[
                    (f.value, current.by_fate.get(f.value, 0) - by_fate[f.value])
                    for f in FATE_ORDER
                ],
                new=[pair for pair in newest if pair[1] >= since],
            )
        )
    return changes


def _counts_then(
    conflict: Conflict, since: dt.datetime, current: TallyResult
) -> tuple[Counter[int], Counter[str]]:
    """Return the counts by side and by fate as they stood at `since` (tally_count's "as of").

    Only the records with a version after `since` can have counted differently then: today's
    counts are corrected by what those few counted then and count now, instead of counting
    every version valid at `since`.
    """
    changed = LossVersion._default_manager.filter(valid_from__gt=since).values("record_id")
    by_side: Counter[int] = Counter(current.by_side)
    by_fate: Counter[str] = Counter(current.by_fate)
    now_rows = losses_selected(conflict=conflict).filter(pk__in=changed)
    then_rows = losses_selected(conflict=conflict, as_of=since).filter(record_id__in=changed)
    for sign, rows in ((-1, now_rows), (1, then_rows)):
        for side_id, fate in rows.values_list("side_id", "fate"):
            by_side[side_id] += sign
            by_fate[fate] += sign
    return by_side, by_fate
