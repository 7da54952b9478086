"""When a loss or one of its depictions is saved, its candidate pairs are refreshed by a job.

Receivers only queue the job once the transaction commits, so a rolled-back edit queues nothing
and the web request never waits for the scoring. Inside `batched()` (an import writing
thousands of losses) the losses are collected and queued as a few jobs at the end instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import transaction

from attrition.jobs import enqueue

BATCH = 500
_local = threading.local()


@contextmanager
def batched() -> Iterator[None]:
    """Collect the losses saved in this thread, and queue their refresh in batches at the end."""
    outer = getattr(_local, "collected", None)
    if outer is not None:  # already batching: the outermost block queues
        yield
        return
    collected: set[int] = set()
    _local.collected = collected
    try:
        yield
    finally:
        _local.collected = None
    ids = sorted(collected)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        transaction.on_commit(partial(enqueue, "dedup.losses", loss_ids=chunk))


def queue(loss_id: int) -> None:
    """Queue one loss's refresh after commit, or collect it when batching."""
    collected = getattr(_local, "collected", None)
    if collected is not None:
        collected.add(loss_id)
    else:
        transaction.on_commit(partial(enqueue, "dedup.loss", loss_id=loss_id))


def loss_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Queue a refresh of a saved loss's candidates."""
    if not raw and instance.pk is not None:
        queue(instance.pk)


def depiction_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Queue a refresh of the candidates of the loss a depiction shows."""
    if not raw and instance.loss_id is not None:
        queue(instance.loss_id)
