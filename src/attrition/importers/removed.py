"""Items gone from a source given whole: marked on their source records and losses, never deleted.

One way for every importer: a source record gone from its source gets `removed_at`, and its loss
the importer's tag ("removed from WarSpotting", "removed from Oryx", ...) in a new version via
"import" whose reason says why; an item that comes back is unmarked the same way.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify

from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, ImportRefused
from attrition.losses.models import Loss
from attrition.losses.services import loss_update

VIA = "import"
# An input that no longer lists more than this share of the items the last import of the same
# scope held is more likely a page in a changed layout, or a cut-off file, than that many items
# withdrawn by the source: it is refused unless the person importing says otherwise.
MAX_REMOVED_SHARE = 0.5
GUARD_FROM = 20  # removals below this many are never refused
ALLOW = "allow_removals"  # the ImportOptions.params key (`attrition import --allow-removals`)


def removals_check(*, removed: int, in_scope: int, options: ImportOptions, source: str) -> None:
    """Raise ImportRefused if an import would mark most of its scope removed, unless allowed."""
    if options.params.get(ALLOW) or removed < GUARD_FROM or removed <= MAX_REMOVED_SHARE * in_scope:
        return
    raise ImportRefused(
        f"{source} no longer lists {removed} of the {in_scope} items the last import of the "
        "same scope held: more likely a changed layout or a cut-off input than items "
        "withdrawn; nothing was written. Check a dry run's report, then import with "
        "--allow-removals to mark them removed."
    )


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
