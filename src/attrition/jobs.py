"""The one seam between the product and its job queue (Huey): declare jobs, enqueue them.

Jobs are declared with `@job("name")` in an app's `tasks.py` (Huey's Django integration imports
those modules) and enqueued by name, so callers never import the queue library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import autodiscover_modules
from huey.api import Result, Task
from huey.contrib.djhuey import HUEY, db_task

JOBS: dict[str, Callable[..., Any]] = {}


def job(
    name: str, *, retries: int = 3, retry_delay: int = 10
) -> Callable[[Callable[..., Any]], Any]:
    """Register a function as a job under `name`, run by the worker in a database transaction."""

    def register(fn: Callable[..., Any]) -> Any:
        if name in JOBS:
            raise ValueError(f"job {name!r} declared twice")
        task = db_task(retries=retries, retry_delay=retry_delay, name=name)(fn)
        JOBS[name] = task
        return task

    return register


def discover() -> dict[str, Callable[..., Any]]:
    """Import every installed app's `tasks` module so that all jobs are declared; return them."""
    autodiscover_modules("tasks")
    return JOBS


def enqueue(name: str, /, **kwargs: Any) -> Result | None:
    """Queue the job `name` with keyword arguments; return Huey's handle on its result."""
    if name not in JOBS:
        discover()
    try:
        task = JOBS[name]
    except KeyError:
        raise LookupError(f"no job named {name!r}; known: {', '.join(sorted(JOBS))}") from None
    result: Result | None = task(**kwargs)
    return result


def pending() -> list[Task]:
    """Return the jobs waiting in the queue."""
    return list(HUEY.pending())


def enqueue_in(name: str, delay_s: float, /, **kwargs: Any) -> Result | None:
    """Queue the job `name` to run no sooner than `delay_s` seconds from now."""
    if name not in JOBS:
        discover()
    task: Any = JOBS[name]
    result: Result | None = task.schedule(kwargs=kwargs, delay=delay_s)
    return result
