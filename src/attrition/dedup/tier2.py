"""Tier 2 at work: local features stored per image at capture, and verification of the pairs
that a perceptual hash cannot settle (a weak or untrusted PDQ hit, the media of two losses that
may be one item), recorded as media matches with the matched regions.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from PIL import Image

from attrition.capture.errors import BadMedia
from attrition.dedup import features
from attrition.dedup.models import MediaMatch
from attrition.evidence.models import Capture

log = logging.getLogger(__name__)
NAME = "features"
MIME = "application/x-attrition-features"
# Pairs verified for one capture or one pair of losses, at most (a verify is ~5 ms; reading
# stored features ~1 ms each).
MAX_PAIRS = 50


def features_store(*, path: Path, key: str, storage: Storage) -> dict[str, Any]:
    """Extract an image's features, store them under `key` unless there, and describe them."""
    if not storage.exists(key):
        try:
            with Image.open(path) as img:
                found = features.extract(img)
        except (OSError, ValueError) as exc:
            raise BadMedia(f"no local features could be taken from the image: {exc}") from exc
        saved = storage.save(key, ContentFile(features.to_bytes(found)))
        if saved != key:  # stored meanwhile by another worker: keep theirs
            storage.delete(saved)
    return {"key": key, "mime": MIME}


def features_load(capture: Capture, storage: Storage | None = None) -> features.Features | None:
    """Return a capture's stored features, or None when it has none or they cannot be read."""
    entry = capture.derivatives.get(NAME) if isinstance(capture.derivatives, dict) else None
    if not isinstance(entry, dict) or not entry.get("key"):
        return None
    storage = storage or default_storage
    try:
        with storage.open(str(entry["key"]), "rb") as fh:
            return features.from_bytes(fh.read())
    except (OSError, ValueError) as exc:
        log.warning("capture %s: stored features unreadable (%s): skipped", capture.pk, exc)
        return None


def features_mirrored(capture: Capture, storage: Storage | None = None) -> features.Features | None:
    """Return the features of a capture's mirrored image, taken from its stored original.

    Local features are not mirror-invariant, and only an image's own features are stored: a
    flipped copy is checked by extracting the mirror of one side when it is asked for (~140 ms).
    """
    storage = storage or default_storage
    try:
        with storage.open(capture.storage_key, "rb") as fh, Image.open(fh) as img:
            return features.extract_mirrored(img)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("capture %s: no mirrored features (%s): skipped", capture.pk, exc)
        return None


def confirm(a: int, b: int, *, mirrored: bool = False) -> features.Verdict | None:
    """Return tier 2's verdict on two image captures (a's image mirrored if asked), or None
    when either has no features."""
    captures = Capture.objects.in_bulk([a, b])
    load = features_mirrored if mirrored else features_load
    fa = load(captures[a]) if a in captures else None
    fb = features_load(captures[b]) if b in captures else None
    if fa is None or fb is None:
        return None
    return features.verify(fa, fb)


def verify_pairs(
    pairs: Iterable[tuple[int, int]], *, mirrored: Collection[tuple[int, int]] = ()
) -> list[MediaMatch]:
    """Verify pairs of image captures with their stored features; record those that match.

    A pair in `mirrored` (a flipped copy, by its PDQ variant) is also verified with the mirror
    of its first capture's image, and the better verdict kept.
    """
    flipped = {(min(a, b), max(a, b)) for a, b in mirrored}
    from attrition.dedup.matching import match_save

    wanted = list(dict.fromkeys((min(a, b), max(a, b)) for a, b in pairs if a != b))[:MAX_PAIRS]
    done = set(
        MediaMatch.objects.filter(kind=MediaMatch.Kind.FEATURES)
        .filter(capture_a__in={a for a, _ in wanted}, capture_b__in={b for _, b in wanted})
        .values_list("capture_a_id", "capture_b_id")
    )
    wanted = [p for p in wanted if p not in done]
    captures = Capture.objects.in_bulk({c for p in wanted for c in p})
    loaded: dict[int, features.Features | None] = {}
    found = []
    for a, b in wanted:
        for pk in (a, b):
            if pk not in loaded:
                capture = captures.get(pk)
                loaded[pk] = features_load(capture) if capture is not None else None
        fa, fb = loaded[a], loaded[b]
        if fa is None or fb is None:
            continue
        verdict = features.verify(fa, fb)
        if (a, b) in flipped and not verdict.same:
            mirror = features_mirrored(captures[a]) if a in captures else None
            if mirror is not None:
                verdict = max(
                    verdict,
                    features.verify(mirror, fb),
                    key=lambda v: (v.same, v.suggest, v.inliers),
                )
        if not (verdict.same or verdict.suggest):
            continue
        found.append(
            match_save(
                a=a,
                b=b,
                kind=MediaMatch.Kind.FEATURES,
                distance=None,
                trusted=verdict.same,
                details={
                    "inliers": verdict.inliers,
                    "inlier_ratio": round(verdict.inlier_ratio, 3),
                    "photometric": verdict.photometric,
                    "region_a": verdict.region_query,
                    "region_b": verdict.region_other,
                    "reason": verdict.reason,
                    "auto": verdict.same,
                },
                auto=verdict.same,
            )
        )
    return found
