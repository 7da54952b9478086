"""Video matching as a bag of frame hashes: a clip inside a compilation, and stills of a video.

Every sampled frame of the query video is searched in the media index at AUTO_LINK. Per other
video, the matched (query time, other time) pairs are grouped by their offset (other - query):
the most query frames whose offsets fit within +-TOLERANCE_MS of a centre are one shared segment,
kept when it holds at least MIN_FRAMES distinct frames on both sides (fewer when a video has
fewer trusted frames: a 2-frame clip must match both). Low-quality frames (fades, black frames,
flat titles) match everything and are left out of video matching; a still image that matches a
frame is reported with its trust flag, for review.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from attrition.capture.steps.pdq import QUALITY_FLOOR
from attrition.dedup.index import AUTO_LINK, IN_CHUNK, Hit, MediaIndex, media_index, rank
from attrition.evidence.models import FrameHash

MIN_FRAMES = 3
# Sampling is 1 frame/s plus keyframes, so a shared segment's frames pair up within about a
# second of the true offset; 1.5 s absorbs that without merging unrelated segments.
TOLERANCE_MS = 1500

Pair = tuple[int, int, int]  # query t_ms, other t_ms, distance


@dataclass(frozen=True)
class VideoMatch:
    """A segment shared with another video: where it lies in each, and how well it matched."""

    capture_id: int
    frames: int  # distinct matched frames (the fewer of the two sides)
    median_distance: float
    offset_ms: int  # other time minus query time, the median over matched frames
    query_start_ms: int
    query_end_ms: int
    other_start_ms: int
    other_end_ms: int


@dataclass(frozen=True)
class StillMatch:
    """A still image that matches the query video's frame at `t_ms`."""

    capture_id: int
    t_ms: int
    distance: int
    trusted: bool


@dataclass(frozen=True)
class VideoMatches:
    """What a video matches: other videos (best segment first) and still images."""

    videos: list[VideoMatch]
    stills: list[StillMatch]


def match_video(
    capture_id: int,
    *,
    radius: int = AUTO_LINK,
    min_frames: int = MIN_FRAMES,
    tolerance_ms: int = TOLERANCE_MS,
    index: MediaIndex | None = None,
) -> VideoMatches:
    """Return the videos that share a segment with a video capture, and the stills of its frames."""
    frames = list(
        FrameHash.objects.filter(capture_id=capture_id)
        .order_by("t_ms")
        .values_list("t_ms", "pdq", "pdq_quality")
    )
    hits = (index or media_index()).search(
        [pdq for _, pdq, _ in frames], radius, capture_id, qualities=[q for _, _, q in frames]
    )
    pairs: dict[int, list[Pair]] = {}
    stills: dict[int, Hit] = {}
    for hit in hits:
        t_query = frames[hit.query_index][0]
        if hit.t_ms is None:
            held = stills.get(hit.capture_id)
            if held is None or rank(hit) < rank(held):
                stills[hit.capture_id] = hit
        elif hit.trusted:
            pairs.setdefault(hit.capture_id, []).append((t_query, hit.t_ms, hit.distance))
    own = sum(1 for _, _, q in frames if q >= QUALITY_FLOOR)
    lengths = trusted_frames(list(pairs))
    videos = []
    for other, found in pairs.items():
        match = segment(other, found, tolerance_ms)
        if match.frames >= max(1, min(min_frames, own, lengths.get(other, 0))):
            videos.append(match)
    videos.sort(key=lambda m: (-m.frames, m.median_distance, m.capture_id))
    return VideoMatches(
        videos=videos,
        stills=sorted(
            (
                StillMatch(h.capture_id, frames[h.query_index][0], h.distance, h.trusted)
                for h in stills.values()
            ),
            key=lambda m: (not m.trusted, m.distance, m.capture_id),
        ),
    )


def trusted_frames(capture_ids: list[int]) -> dict[int, int]:
    """Return how many trusted frames each of these video captures has."""
    counts: dict[int, int] = {}
    for i in range(0, len(capture_ids), IN_CHUNK):
        counts.update(
            FrameHash.objects.filter(
                capture_id__in=capture_ids[i : i + IN_CHUNK], pdq_quality__gte=QUALITY_FLOOR
            )
            .values_list("capture_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    return counts


def segment(capture_id: int, pairs: list[Pair], tolerance_ms: int) -> VideoMatch:
    """Return the segment of the most query frames whose offsets fit in +-tolerance of a centre."""
    pairs = sorted(pairs, key=lambda p: (p[1] - p[0], p[2]))
    offsets = [t_other - t_query for t_query, t_other, _ in pairs]
    inside: Counter[int] = Counter()  # query frames in the window [start, end]
    most, best, start = 0, (0, 0), 0
    for end, (t_query, _, _) in enumerate(pairs):
        inside[t_query] += 1
        while offsets[end] - offsets[start] > 2 * tolerance_ms:
            inside[pairs[start][0]] -= 1
            if not inside[pairs[start][0]]:
                del inside[pairs[start][0]]
            start += 1
        if len(inside) > most:
            most, best = len(inside), (start, end + 1)
    return summary(capture_id, pairs[best[0] : best[1]])


def summary(capture_id: int, window: list[Pair]) -> VideoMatch:
    """Return the match of a window of pairs, per query frame the pair nearest its centre."""
    centre = statistics.median_low(t_other - t_query for t_query, t_other, _ in window)
    chosen: dict[int, Pair] = {}
    for pair in window:
        held = chosen.get(pair[0])
        if held is None or off_centre(pair, centre) < off_centre(held, centre):
            chosen[pair[0]] = pair
    kept = list(chosen.values())
    query, other = [p[0] for p in kept], [p[1] for p in kept]
    return VideoMatch(
        capture_id=capture_id,
        frames=min(len(set(query)), len(set(other))),
        median_distance=float(statistics.median(p[2] for p in kept)),
        offset_ms=round(statistics.median(o - q for q, o in zip(query, other, strict=True))),
        query_start_ms=min(query),
        query_end_ms=max(query),
        other_start_ms=min(other),
        other_end_ms=max(other),
    )


def off_centre(pair: Pair, centre: int) -> tuple[int, int]:
    """Return how far a pair's offset lies from the window's centre, then its distance."""
    return abs(pair[1] - pair[0] - centre), pair[2]
