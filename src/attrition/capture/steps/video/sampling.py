"""Which frames of a video to keep: the sampling rule, as a pure function of what a scan found."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """Keep the first frame at or after each mark, and the keyframes allowed here."""

    marks_ms: tuple[int, ...]
    keyframes: frozenset[int] | None  # pts of the keyframes to keep; None keeps every one
    max_frames: int
    interval_s: float

    def keeps_keyframe(self, pts: int) -> bool:
        """Return whether a keyframe at this pts is to be kept."""
        return self.keyframes is None or pts in self.keyframes


def plan(*, duration_s: float, keyframes: Sequence[int], every_s: float, max_frames: int) -> Plan:
    """Return the sampling plan for a video of this length with keyframes at these pts.

    A mark every `every_s` from 0 to the end, plus every keyframe, when that many fit in
    `max_frames`. Otherwise the keyframes get at most half of `max_frames` (evenly chosen among
    them when there are more) and the marks share the rest, their interval widened evenly to
    `duration_s / rest`: the frames still span the whole video instead of stopping early.
    """
    marks = count_marks(duration_s, every_s)
    if marks + len(keyframes) <= max_frames:
        return Plan(
            marks_ms=spaced(marks, every_s),
            keyframes=None,
            max_frames=max_frames,
            interval_s=every_s,
        )
    share = min(len(keyframes), max_frames // 2)
    # The middle keyframe of each of `share` equal runs of them: spread over the whole video.
    kept = frozenset(keyframes[(2 * i + 1) * len(keyframes) // (2 * share)] for i in range(share))
    rest = max_frames - share
    interval = max(every_s, duration_s / rest)
    return Plan(
        marks_ms=spaced(min(rest, count_marks(duration_s, interval)), interval),
        keyframes=kept,
        max_frames=max_frames,
        interval_s=interval,
    )


def count_marks(duration_s: float, interval_s: float) -> int:
    """Return how many marks at 0, interval, 2 x interval, ... fall before the end (at least 1)."""
    return max(1, math.ceil(duration_s / interval_s - 1e-9))


def spaced(count: int, interval_s: float) -> tuple[int, ...]:
    """Return `count` marks in ms, `interval_s` apart from 0."""
    return tuple(round(k * interval_s * 1000) for k in range(count))
