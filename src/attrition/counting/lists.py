"""The lists an estimate uses: which of the ledger's sources show each loss, now or as of a moment.

A list is every loss one source shows: a platform, a channel (per platform), an importer (another
tracker's records, following merges) or a contributor's collection. "As of" a moment, a loss's
sources are read from the versions of its depictions and their evidence valid then, and merges
are followed as they stood then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce

from attrition import history
from attrition.catalog.models import EquipmentModel
from attrition.evidence.models import Evidence, EvidenceVersion
from attrition.importers.models import SourceRecord
from attrition.losses.models import Depiction, DepictionVersion, Loss, LossVersion
from attrition.losses.tally import latest_change

KINDS = ("platform", "channel", "importer", "collector")
CHUNK = 5000


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def memberships(
    *, kind: str, loss_ids: list[int], as_of: dt.datetime | None = None
) -> dict[int, set[str]]:
    """Return, per loss, the names of the lists of this kind that show it (then, if `as_of`)."""
    found: dict[int, set[str]] = defaultdict(set)
    if kind == "importer":
        rows = _imported(loss_ids, as_of)
    elif as_of is None:
        rows = _shown_now(kind, loss_ids)
    else:
        rows = _shown_then(kind, loss_ids, as_of)
    for pk, name in rows:
        if name:
            found[pk].add(str(name))
    return found


def sources_version() -> dt.datetime | None:
    """Return the moment of the latest change to the losses, models and sources estimates read."""
    imported = SourceRecord.objects.aggregate(at=Max("first_imported_at"))["at"]
    moments = [latest_change(Loss, EquipmentModel, Depiction, Evidence), imported]
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _imported(loss_ids: list[int], as_of: dt.datetime | None) -> Iterable[tuple[int, Any]]:
    """Yield (loss, importer) for each source record documenting a loss, following merges."""
    for ids in _chunks(loss_ids):
        if as_of is None:
            # Records of a merged duplicate document the loss it was merged into.
            yield from (
                SourceRecord.objects.annotate(
                    counted=Coalesce(F("loss__merged_into_id"), "loss_id")
                )
                .filter(counted__in=ids)
                .values_list("counted", "source")
            )
            continue
        merged = history.valid_at(LossVersion._default_manager.order_by(), as_of).filter(
            merged_into_id__in=ids
        )
        counted = {pk: pk for pk in ids}
        counted.update(merged.values_list("record_id", "merged_into_id"))
        records = SourceRecord.objects.filter(
            loss_id__in=list(counted), first_imported_at__lte=as_of
        ).values_list("loss_id", "source")
        yield from ((counted[pk], source) for pk, source in records)


def _shown_now(kind: str, loss_ids: list[int]) -> Iterable[tuple[int, Any]]:
    for ids in _chunks(loss_ids):
        shown = Depiction.objects.filter(
            loss_id__in=ids, deleted_at__isnull=True, evidence__deleted_at__isnull=True
        )
        if kind == "channel":
            # A channel's name means something only on its platform.
            yield from (
                (pk, f"{platform}:{channel}")
                for pk, platform, channel in shown.exclude(evidence__channel="").values_list(
                    "loss_id", "evidence__platform", "evidence__channel"
                )
            )
        else:
            column = "evidence__platform" if kind == "platform" else "evidence__added_by__username"
            yield from shown.values_list("loss_id", column)


def _shown_then(kind: str, loss_ids: list[int], as_of: dt.datetime) -> Iterable[tuple[int, Any]]:
    """Yield (loss, list name) from the depictions and evidence as they stood at `as_of`."""
    pairs: list[tuple[int, int]] = []
    versions = history.valid_at(DepictionVersion._default_manager.order_by(), as_of)
    never_versioned = ~Exists(DepictionVersion._default_manager.filter(record_id=OuterRef("pk")))
    for ids in _chunks(loss_ids):
        pairs += versions.filter(loss_id__in=ids, deleted_at__isnull=True).values_list(
            "loss_id", "evidence_id"
        )
        # Depictions older than the history of depictions: as they are, if they existed then.
        pairs += (
            Depiction.objects.filter(never_versioned, loss_id__in=ids, created_at__lte=as_of)
            .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=as_of))
            .values_list("loss_id", "evidence_id")
        )
    evidence = _evidence_then(sorted({e for _, e in pairs}), as_of)
    names: dict[int, str] = {}
    if kind == "collector":
        users = {row[2] for row in evidence.values() if row[2] is not None}
        names = dict(
            get_user_model()._default_manager.filter(pk__in=users).values_list("pk", "username")
        )
    for loss_id, evidence_id in pairs:
        row = evidence.get(evidence_id)
        if row is None:
            continue  # the evidence was deleted by then
        platform, channel, added_by = row
        if kind == "platform":
            yield loss_id, platform
        elif kind == "channel":
            yield loss_id, f"{platform}:{channel}" if channel else ""
        else:
            yield loss_id, names.get(added_by) if added_by is not None else ""


def _evidence_then(ids: list[int], as_of: dt.datetime) -> dict[int, tuple[str, str, int | None]]:
    """Return (platform, channel, added by) of each piece of evidence live at `as_of`."""
    found: dict[int, tuple[str, str, int | None]] = {}
    columns = ("platform", "channel", "added_by_id", "deleted_at")
    versions = history.valid_at(EvidenceVersion._default_manager.order_by(), as_of)
    for chunk in _chunks(ids):
        seen: set[int] = set()
        for pk, platform, channel, added_by, deleted in versions.filter(
            record_id__in=chunk
        ).values_list("record_id", *columns):
            seen.add(pk)
            if deleted is None:
                found[pk] = (platform, channel, added_by)
        # Evidence older than its history: as it is now, unless deleted by then.
        rest = [pk for pk in chunk if pk not in seen]
        for pk, platform, channel, added_by, deleted in Evidence.objects.filter(
            pk__in=rest
        ).values_list("pk", *columns):
            if deleted is None or deleted > as_of:
                found[pk] = (platform, channel, added_by)
    return found
