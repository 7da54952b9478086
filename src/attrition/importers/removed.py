"""Items gone from a source given whole: marked on their source records and losses, never deleted.

One way for every importer: a source record gone from its source gets `removed_at`, and its loss
the importer's tag ("removed from WarSpotting", "removed from Oryx", ...) in a new version via
"import" whose reason says why; an item that comes back is unmarked the same way.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify

from attrition.importers.models import SourceRecord
from attrition.losses.models import Loss
from attrition.losses.services import loss_update

VIA = "import"


def tag_names(loss: Loss) -> list[str]:
    """Return the names of a loss's tags."""
    return list(loss.tags.values_list("name", flat=True))


def tags_without(names: list[str], drop: list[str]) -> list[str]:
    """Return `names` without those that are (by slug) in `drop`."""
    slugs = {slugify(n)[:64] for n in drop}
    return [n for n in names if slugify(n)[:64] not in slugs]


def record_mark(record: SourceRecord, *, removed_at: Any, by: Any, reason: str, tag: str) -> None:
    """Mark a source record removed from its source (or back), tagging its loss to match."""
    record.refresh_from_db()
    if record.loss_id is not None:
        loss = Loss.objects.get(pk=record.loss_id)
        names = tags_without(tag_names(loss), [tag])
        if removed_at is not None:
            names.append(tag)
        if sorted(names) != sorted(tag_names(loss)):
            loss_update(loss=loss, by=by, tags=names, reason=reason, via=VIA)
    record.removed_at = removed_at
    record.save(update_fields=["removed_at", "last_seen_at"])
