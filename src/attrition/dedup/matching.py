"""Step 9 of a capture, match: a new image or video against every stored hash, recorded as
media matches, so the same photo or footage is known before a loss is counted twice.

Images are searched with the 8 rotations and flips of their hash; videos as a bag of frame
hashes (a clip inside a compilation is found with its time range in both). Matches within the
auto-link radius between trusted hashes are linked, if two stills also agree in their local
features (PDQ alone links different photos inside one screenshot frame); the wider band, and
what the features do not confirm, go to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db import transaction

from attrition.capture.steps.pdq import Pdq
from attrition.dedup.index import AUTO_LINK, SUGGEST, match_image
from attrition.dedup.models import MediaMatch
from attrition.dedup.tier2 import confirm, verify_pairs
from attrition.dedup.video_match import match_video
from attrition.evidence.models import Capture, FrameHash
from attrition.jobs import enqueue
from attrition.losses.models import Depiction

# PDQ variants of a mirrored copy: its local features must be compared mirrored too (the rotations
# need nothing: local features turn with the image).
MIRRORED = frozenset(("flip_x", "flip_y", "flip_diag", "flip_anti"))


def pair(a: int, b: int) -> tuple[int, int]:
    """Return two capture ids in stored order, lower first."""
    return (a, b) if a < b else (b, a)


def match_save(
    *,
    a: int,
    b: int,
    kind: str,
    distance: int | None,
    trusted: bool,
    details: dict[str, Any],
    auto: bool | None = None,
) -> MediaMatch:
    """Record a match between two captures once per kind, keeping the closest one found."""
    low, high = pair(a, b)
    if auto is None:
        auto = trusted and distance is not None and distance <= AUTO_LINK
    band = MediaMatch.Band.AUTO if auto else MediaMatch.Band.SUGGEST
    found, created = MediaMatch.objects.get_or_create(
        capture_a_id=low,
        capture_b_id=high,
        kind=kind,
        defaults={"band": band, "distance": distance, "trusted": trusted, "details": details},
    )
    if not created and distance is not None and (found.distance or 999) > distance:
        found.band, found.distance, found.trusted, found.details = band, distance, trusted, details
        found.save(update_fields=["band", "distance", "trusted", "details"])
    return found


def frame_key(capture_id: int, t_ms: int) -> str:
    """Return the storage key of a video's sampled frame at a time, or ""."""
    key = (
        FrameHash.objects.filter(capture_id=capture_id, t_ms=t_ms)
        .values_list("storage_key", flat=True)
        .first()
    )
    return key or ""


def image_matches(capture: Capture, dihedral: Sequence[Pdq]) -> list[MediaMatch]:
    """Record what a new image matches: other images, and frames of videos."""
    found = []
    hits = match_image(
        [h.hex for h in dihedral],
        quality=dihedral[0].quality if dihedral else None,
        exclude_capture=capture.pk,
        radius=SUGGEST,
    )
    for hit in hits:
        details: dict[str, Any] = {"variant": hit.variant}
        auto: bool | None = None
        if hit.auto_link and hit.t_ms is None:
            # PDQ links different photos framed alike (one screenshot frame, one banner):
            # a still linked by PDQ alone must also agree in its local features.
            verdict = confirm(capture.pk, hit.capture_id, mirrored=hit.variant in MIRRORED)
            if verdict is not None and not verdict.same:
                auto = False
                details["tier2"] = f"not confirmed: {verdict.reason}"
        if hit.t_ms is not None:
            key_a, key_b = ("", frame_key(hit.capture_id, hit.t_ms))
            if capture.pk > hit.capture_id:
                key_a, key_b = key_b, key_a
            details["frames"] = [{"t_a": None, "t_b": hit.t_ms, "key_a": key_a, "key_b": key_b}]
        found.append(
            match_save(
                a=capture.pk,
                b=hit.capture_id,
                kind=MediaMatch.Kind.PDQ,
                distance=hit.distance,
                trusted=hit.trusted,
                details=details,
                auto=auto,
            )
        )
    # What PDQ cannot settle (the review band, untrusted hashes) goes to tier 2.
    weak = [(capture.pk, h.capture_id) for h in hits if h.t_ms is None and not h.auto_link]
    flips = [(capture.pk, h.capture_id) for h in hits if h.variant in MIRRORED]
    found.extend(verify_pairs(weak, mirrored=flips))
    return found


def video_matches(capture: Capture) -> list[MediaMatch]:
    """Record the segments a new video shares with others, and the stills that are its frames."""
    matches = match_video(capture.pk)
    found = []
    for seg in matches.videos:
        mine_first = capture.pk < seg.capture_id
        ranges = {
            "a_start_ms": seg.query_start_ms if mine_first else seg.other_start_ms,
            "a_end_ms": seg.query_end_ms if mine_first else seg.other_end_ms,
            "b_start_ms": seg.other_start_ms if mine_first else seg.query_start_ms,
            "b_end_ms": seg.other_end_ms if mine_first else seg.query_end_ms,
        }
        found.append(
            match_save(
                a=capture.pk,
                b=seg.capture_id,
                kind=MediaMatch.Kind.FRAMES,
                distance=round(seg.median_distance),
                trusted=True,
                details={
                    "frames_matched": seg.frames,
                    "offset_ms": seg.offset_ms,
                    "ranges": [ranges],
                },
            )
        )
    for still in matches.stills:
        found.append(
            match_save(
                a=capture.pk,
                b=still.capture_id,
                kind=MediaMatch.Kind.PDQ,
                distance=still.distance,
                trusted=still.trusted,
                details={"video_t_ms": still.t_ms},
            )
        )
    return found


def capture_match(*, capture: Capture, dihedral: Sequence[Pdq] = ()) -> str:
    """Match a newly archived capture and queue a candidate refresh for the losses it touches."""
    if capture.kind == Capture.Kind.VIDEO:
        found = video_matches(capture)
    elif capture.kind == Capture.Kind.IMAGE and dihedral:
        found = image_matches(capture, dihedral)
    else:
        return "nothing to match"
    involved = {capture.pk} | {m.capture_a_id for m in found} | {m.capture_b_id for m in found}
    losses = set(
        Depiction.objects.filter(capture_id__in=involved, deleted_at__isnull=True).values_list(
            "loss_id", flat=True
        )
    ) | set(
        Depiction.objects.filter(
            evidence__custody__capture_id__in=involved, deleted_at__isnull=True
        ).values_list("loss_id", flat=True)
    )
    for loss_id in losses:
        transaction.on_commit(partial(enqueue, "dedup.loss", loss_id=loss_id))
    linked = sum(1 for m in found if m.band == MediaMatch.Band.AUTO)
    return f"{len(found)} match(es), {linked} linked, {len(found) - linked} for review"
