"""When a loss or one of its depictions is saved, its candidate pairs are refreshed by a job.

Receivers only queue the job once the transaction commits, so a rolled-back edit queues nothing
and the web request never waits for the scoring.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from attrition.jobs import enqueue


def loss_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Queue a refresh of a saved loss's candidates."""
    if raw or instance.pk is None:
        return
    loss_id = instance.pk
    transaction.on_commit(lambda: enqueue("dedup.loss", loss_id=loss_id))


def depiction_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Queue a refresh of the candidates of the loss a depiction shows."""
    if raw or instance.loss_id is None:
        return
    loss_id = instance.loss_id
    transaction.on_commit(lambda: enqueue("dedup.loss", loss_id=loss_id))
