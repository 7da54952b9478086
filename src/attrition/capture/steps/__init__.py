"""The capture steps, declared in one place: number, name, what each does, and its module.

Each step lives in its own folder (`steps/<name>/__init__.py`) and exposes `run(...)`; adding a
step is copying a sibling folder and adding its line here. Steps 1 and 2 are the URL rules in
`attrition.evidence.urls` and the guard in `attrition.capture.guard`, which every fetch applies;
step 8, custody, is written with the records in `attrition.capture.archive`, and the order in
which a job runs the steps is `attrition.capture.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class Step:
    """One step of the capture pipeline."""

    number: int
    name: str
    summary: str

    def module(self) -> ModuleType:
        """Return the module that implements the step."""
        return import_module(f"{__name__}.{self.name}")


STEPS: tuple[Step, ...] = (
    Step(3, "http_fetch", "download direct media over HTTP, within size and time limits"),
    Step(3, "page", "read what a kept web page says about itself: title, time, its media"),
    Step(3, "ytdlp", "download a post's or page's video through yt-dlp, every request guarded"),
    Step(4, "store", "store the original content-addressed by SHA-256, never overwriting"),
    Step(5, "enrich", "sniff the type, record EXIF, make metadata-free derivatives"),
    Step(6, "video", "probe a video, sample frames and keyframes as derived images"),
    Step(7, "pdq", "PDQ hashes of images and sampled frames, one canonical preprocessing"),
)


def step_get(name: str) -> Step:
    """Return the step called `name`, or raise LookupError naming the known ones."""
    for step in STEPS:
        if step.name == name:
            return step
    raise LookupError(f"no capture step {name!r}; known: {', '.join(s.name for s in STEPS)}")
