"""The capture steps, declared in one place: number, name, what each does, and its module.

Each step lives in its own folder (`steps/<name>/__init__.py`) and exposes `run(...)`; adding a
step is copying a sibling folder and adding its line here. Steps 1 and 2 are the URL rules in
`attrition.evidence.urls` and the guard in `attrition.capture.guard`, which the fetch applies.
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
    Step(4, "store", "store the original content-addressed by SHA-256, never overwriting"),
)


def step_get(name: str) -> Step:
    """Return the step called `name`, or raise LookupError naming the known ones."""
    for step in STEPS:
        if step.name == name:
            return step
    raise LookupError(f"no capture step {name!r}; known: {', '.join(s.name for s in STEPS)}")
