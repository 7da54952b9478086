"""How likely two losses are one physical item: explainable signals, combined in log-odds.

Each signal adds a signed contribution, in log-odds, to a prior of -2.5 (a candidate of the same
conflict, side and category, near in time, is a duplicate about 1 time in 13); the sum goes
through a logistic to give `Score.total` in 0..1. The verdict is "likely same" from 0.80,
"possible" from 0.40, else "unlikely". Nothing here writes to the database.

| signal        | contribution (log-odds)                                     | weight |
|---------------|-------------------------------------------------------------|--------|
| same media    | +3.0 an archived file shows both (one photo can show two     | 3.0    |
|               | tanks, so not conclusive); +1.5 a post, or a video at other  |        |
|               | moments, shows both; -3.0 a shared file or post tells them   |        |
|               | apart (different item numbers, or regions that do not meet)  |        |
| matched media | +2.5 near-duplicate pair <= 31 PDQ bits, or tier-2 verified; | 2.5    |
|               | +1.0 review band 32..63 bits                                 |        |
| model         | +0.7 same; -0.5 same category, other model (T-62 vs T-62M    | 3.0    |
|               | are often confused); -3.0 different categories               |        |
| markings      | +4.0 a hull/tail number in common (case, spaces, dashes and  | 4.0    |
|               | Cyrillic look-alikes folded); -4.0 both known, none common;  |        |
|               | 0 when either is blank                                       |        |
| place         | up to +1.0 (exact/approximate), +0.7 settlement, +0.3        | 1.0    |
|               | district or unknown-precision point, 0 province: full within |        |
|               | both places' radii (0.1/5/10/30/150/25 km), fading to 0 over |        |
|               | 50 km beyond, then to -1.0 over 150 km more; by admin unit   |        |
|               | when there are no points: same unit as above, same province  |        |
|               | 0, different provinces -0.5                                  |        |
| time          | up to +0.8 (day precision), +0.3 (month), 0 (year): full     | 1.5    |
|               | within both dates' uncertainty (+-1/15/182 days), fading to  |        |
|               | 0 over 7 days beyond, then to -1.5 over 60 days more         |        |
| side          | 0 same; -4.0 different (another side's loss is another       | 4.0    |
|               | record)                                                      |        |
| fates         | +0.3 one history extends the other; -0.7 destroyed, then     | 0.7    |
|               | seen later not destroyed; else 0                             |        |
| captor        | +0.3 both captured by the same side; -1.5 by different ones  | 1.5    |

`weight` is the most a signal can move the sum either way; every Score carries all nine signals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from attrition.catalog.models import EquipmentModel
from attrition.dedup import signals
from attrition.dedup.signals import MediaEvidence, Signal
from attrition.losses.models import Depiction, Loss

PRIOR = -2.5
LIKELY, POSSIBLE = 0.80, 0.40
# Candidates scoring below this are not worth a reviewer's look.
CANDIDATE_FLOOR = 0.25
# Days either side of a loss's first sighting within which candidates are looked for.
CANDIDATE_WINDOW_DAYS = 60
# The most candidates scored for one loss: the newest ones.
CANDIDATE_MAX = 200

__all__ = [
    "MediaEvidence",
    "Score",
    "Signal",
    "candidate_query",
    "candidates_for",
    "loss_score",
    "shared_media",
]


@dataclass(frozen=True)
class Score:
    """How likely two losses are one item (0..1), why, and a verdict."""

    total: float
    signals: tuple[Signal, ...]
    verdict: str

    def explain(self) -> list[str]:
        """Return one line per signal, e.g. "+4.00 markings: "A-123" vs "a123" (same: A123)"."""
        return [f"{s.contribution:+.2f} {s.name}: {s.value}" for s in self.signals]


def loss_score(a: Loss, b: Loss, *, media: MediaEvidence | None = None) -> Score:
    """Return how likely `a` and `b` are the same physical item, with each signal's share."""
    same_media, matched_media = signals.media_signals(media)
    found = (
        same_media,
        matched_media,
        signals.model_signal(a, b),
        signals.markings_signal(a, b),
        signals.place_signal(a, b),
        signals.time_signal(a, b),
        signals.side_signal(a, b),
        signals.fates_signal(a, b),
        signals.captor_signal(a, b),
    )
    log_odds = PRIOR + sum(s.contribution for s in found)
    total = 1 / (1 + math.exp(-log_odds))
    verdict = "likely same" if total >= LIKELY else "possible" if total >= POSSIBLE else "unlikely"
    return Score(total=round(total, 4), signals=found, verdict=verdict)


def candidate_query(loss: Loss) -> QuerySet[Loss]:
    """Return the live losses worth scoring against `loss`, newest first and bounded."""
    live = Loss.objects.filter(
        conflict_id=loss.conflict_id,
        side_id=loss.side_id,
        deleted_at__isnull=True,
        merged_into__isnull=True,
    )
    category = EquipmentModel.objects.filter(category_id=loss.model.category_id).values("id")
    alike = Q(model_id__in=category)
    if loss.first_seen is not None:
        slack = signals.DATE_SLACK_DAYS[signals.date_precision(loss)]
        # Ours plus what a month-precision candidate adds; year-precision ones may be missed.
        days = dt.timedelta(days=CANDIDATE_WINDOW_DAYS + slack + 15)
        window = (loss.first_seen - days, loss.first_seen + days)
        alike &= Q(first_seen__isnull=True) | Q(first_seen__range=window)
    if loss.pk is not None:
        live = live.exclude(pk=loss.pk)
        own = Depiction.objects.filter(loss_id=loss.pk, deleted_at__isnull=True)
        sharing = Depiction.objects.filter(
            Q(evidence_id__in=own.values("evidence_id"))
            | Q(capture_id__in=own.filter(capture_id__isnull=False).values("capture_id")),
            deleted_at__isnull=True,
        )
        # Sharing a post or file makes a candidate whatever its model or date says.
        alike |= Q(pk__in=sharing.values("loss_id"))
    related = ("model__category", "side", "captured_by", "admin_unit")
    found = live.filter(alike).select_related(*related).defer("admin_unit__geometry")
    return found.order_by("-id")[:CANDIDATE_MAX]


def candidates_for(
    loss: Loss,
    *,
    media_for: Callable[[Loss, Loss], MediaEvidence] | None = None,
    limit: int = 20,
    floor: float = CANDIDATE_FLOOR,
    others: Sequence[Loss] | None = None,
) -> list[tuple[Loss, Score]]:
    """Return up to `limit` candidates scoring at least `floor`, best first.

    Without `media_for`, media evidence is what the depictions share (files, posts, item
    numbers); near-duplicate pairs are then reported as not checked.
    """
    others = list(candidate_query(loss)) if others is None else list(others)
    shared = shared_media(loss, others) if media_for is None else {}
    unshared = MediaEvidence(near_checked=False)
    scored = []
    for other in others:
        media = media_for(loss, other) if media_for else shared.get(other.pk, unshared)
        score = loss_score(loss, other, media=media)
        if score.total >= floor:
            scored.append((other, score))
    scored.sort(key=lambda pair: (-pair[1].total, -pair[0].pk))
    return scored[:limit]


def shared_media(loss: Loss, others: Iterable[Loss]) -> dict[int, MediaEvidence]:
    """Return, per other loss id, the files and posts its depictions share with `loss`'s."""
    ids = [o.pk for o in others if o.pk is not None]
    if loss.pk is None or not ids:
        return {}
    own = list(Depiction.objects.filter(loss_id=loss.pk, deleted_at__isnull=True))
    if not own:
        return {}
    captures = {d.capture_id for d in own if d.capture_id is not None}
    theirs: dict[int, list[Depiction]] = defaultdict(list)
    for depiction in Depiction.objects.filter(
        Q(evidence_id__in={d.evidence_id for d in own}) | Q(capture_id__in=captures),
        loss_id__in=ids,
        deleted_at__isnull=True,
    ):
        theirs[depiction.loss_id].append(depiction)
    return {loss_id: _shared(own, found) for loss_id, found in theirs.items()}


def _shared(own: Sequence[Depiction], theirs: Sequence[Depiction]) -> MediaEvidence:
    """Return what two losses' depictions share: same file and moment, same post, told apart."""
    files: set[int] = set()
    posts: set[tuple[str, int]] = set()
    apart: set[tuple[str, int]] = set()
    for da in own:
        for db in theirs:
            same_file = da.capture_id is not None and da.capture_id == db.capture_id
            if same_file:
                key = ("file", da.capture_id or 0)
                if _same_moment(da, db):
                    files.add(key[1])
                else:
                    posts.add(key)
            elif da.evidence_id == db.evidence_id and None in (da.capture_id, db.capture_id):
                key = ("post", da.evidence_id)
                posts.add(key)
            else:
                continue
            if _told_apart(da, db, same_file=same_file):
                apart.add(key)
    return MediaEvidence(
        shared_captures=len(files),
        shared_posts=len(posts),
        told_apart=len(apart),
        near_checked=False,
    )


def _same_moment(da: Depiction, db: Depiction) -> bool:
    """Return whether two depictions of one file are at the same moment (or it is a still)."""
    if da.t_start_ms is None and db.t_start_ms is None:
        return True
    if da.t_start_ms is None or db.t_start_ms is None:
        return False
    end_a = da.t_end_ms if da.t_end_ms is not None else da.t_start_ms
    end_b = db.t_end_ms if db.t_end_ms is not None else db.t_start_ms
    return da.t_start_ms <= end_b and db.t_start_ms <= end_a


def _told_apart(da: Depiction, db: Depiction, *, same_file: bool) -> bool:
    """Return whether two depictions in one file or post are marked as different items."""
    if da.item_number is not None and db.item_number is not None:
        return da.item_number != db.item_number
    ra, rb = da.region, db.region
    # Regions compare only within one image, or one moment of one video.
    if not same_file or not isinstance(ra, dict) or not isinstance(rb, dict):
        return False
    if not _same_moment(da, db):
        return False
    try:
        ax, ay, aw, ah = (float(ra[k]) for k in "xywh")
        bx, by, bw, bh = (float(rb[k]) for k in "xywh")
    except (KeyError, TypeError, ValueError):
        return False
    return ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
