"""Reads for the duplicate review pages: a candidate pair side by side, with its media matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from attrition.dedup.models import LossCandidate, MediaMatch
from attrition.evidence.models import Capture
from attrition.evidence.views import derived_url, frame_url
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Depiction, Loss


@dataclass
class Shown:
    """One depiction of a loss as the review page shows it."""

    depiction: Depiction
    thumb: str
    matched: bool


@dataclass
class Side:
    """One loss of a pair, with what the page shows of it."""

    loss: Loss
    fates: str
    shown: list[Shown] = field(default_factory=list)


@dataclass
class Matched:
    """A media match between the two losses' captures, with links to what matched."""

    match: MediaMatch
    thumb_a: str
    thumb_b: str
    frames: list[dict[str, Any]]


def candidates_listed(status: str = LossCandidate.Status.OPEN) -> QuerySet[LossCandidate]:
    """Return the candidate pairs with a status, the likeliest first."""
    return (
        LossCandidate.objects.filter(status=status)
        .select_related("loss_a__model", "loss_b__model", "loss_a__side", "loss_b__side")
        .order_by("-score", "pk")
    )


def captures_of(loss: Loss) -> set[int]:
    """Return the ids of the captures depicting a loss, directly or through its evidence."""
    direct = set(
        Depiction.objects.filter(
            loss=loss, deleted_at__isnull=True, capture__isnull=False
        ).values_list("capture_id", flat=True)
    )
    via_evidence = set(
        Capture.objects.filter(
            custody__evidence__depictions__loss=loss,
            custody__evidence__depictions__deleted_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    return {c for c in direct | via_evidence if c is not None}


def side_of(loss: Loss, matched_captures: set[int]) -> Side:
    """Return one loss of the pair with its depictions and their thumbnails."""
    side = Side(loss=loss, fates=fate_history_text(loss.fate_history))
    depictions = (
        Depiction.objects.filter(loss=loss, deleted_at__isnull=True)
        .select_related("evidence", "capture")
        .order_by("pk")
    )
    for depiction in depictions:
        capture = depiction.capture or depiction.evidence.captures.order_by("pk").first()
        side.shown.append(
            Shown(
                depiction=depiction,
                thumb=derived_url(capture) if capture else "",
                matched=bool(capture and capture.pk in matched_captures),
            )
        )
    return side


def pair_view(candidate: LossCandidate) -> dict[str, Any]:
    """Return everything the side-by-side page shows for a candidate pair."""
    a_caps, b_caps = captures_of(candidate.loss_a), captures_of(candidate.loss_b)
    matches = (
        MediaMatch.objects.filter(
            Q(capture_a__in=a_caps, capture_b__in=b_caps)
            | Q(capture_a__in=b_caps, capture_b__in=a_caps)
        )
        .select_related("capture_a", "capture_b")
        .order_by("distance")
    )
    matched = []
    for match in matches:
        frames = []
        for pair in match.details.get("frames", [])[:6]:
            frames.append(
                {
                    "t_a": pair.get("t_a"),
                    "t_b": pair.get("t_b"),
                    "url_a": frame_url(match.capture_a, pair["key_a"]) if pair.get("key_a") else "",
                    "url_b": frame_url(match.capture_b, pair["key_b"]) if pair.get("key_b") else "",
                }
            )
        matched.append(
            Matched(
                match=match,
                thumb_a=derived_url(match.capture_a),
                thumb_b=derived_url(match.capture_b),
                frames=frames,
            )
        )
    in_both = {m.match.capture_a_id for m in matched} | {m.match.capture_b_id for m in matched}
    shared = a_caps & b_caps
    return {
        "candidate": candidate,
        "a": side_of(candidate.loss_a, in_both | shared),
        "b": side_of(candidate.loss_b, in_both | shared),
        "matches": matched,
        "shared": len(shared),
        "signals": candidate.signals,
    }
