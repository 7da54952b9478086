"""A verified loss's public history: when it was published and what readers saw change since.

Only the versions in which the loss was public (verified, not deleted) are compared, and only
the fields a reader sees on its page. Who made a change, why, drafts and review states between
two public versions are not shown: they are the editors' (see the review pages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Min

from attrition.catalog.models import EquipmentModel, Side
from attrition.losses.choices import ReviewStatus
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Loss, LossVersion
from attrition.territory.models import AdminUnit

# (attribute of a version, label) of what the loss page shows.
PUBLIC_FIELDS = (
    ("side_id", "lost by"),
    ("model_id", "model"),
    ("fate_history", "fate"),
    ("captured_by_id", "captured by"),
    ("first_seen", "first seen"),
    ("first_seen_precision", "date precision"),
    ("admin_unit_id", "place"),
    ("place_text", "place, in words"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("place_precision", "place precision"),
    ("unit", "unit"),
    ("markings", "markings"),
    ("description", "description"),
    ("tag_names", "tags"),
)


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    """One moment in a loss's public life: published, changed, or another record merged in."""

    at: dt.datetime
    kind: str  # "published", "changed", "merged" (another into this), "merged_into" (this into)
    changes: list[Change] = field(default_factory=list)
    merged_id: int | None = None


def _labels(versions: list[Any]) -> dict[str, dict[Any, str]]:
    """Return the names of the sides, models and places the versions refer to."""
    ids: dict[str, set[Any]] = {"side": set(), "model": set(), "unit": set()}
    for v in versions:
        ids["side"].update(x for x in (v.side_id, v.captured_by_id) if x is not None)
        ids["model"].add(v.model_id)
        if v.admin_unit_id is not None:
            ids["unit"].add(v.admin_unit_id)
    units = (
        AdminUnit.objects.filter(pk__in=ids["unit"])
        .select_related("parent")
        .defer("geometry", "parent__geometry")
    )
    return {
        "side": dict(Side.objects.filter(pk__in=ids["side"]).values_list("id", "name")),
        "model": dict(EquipmentModel.objects.filter(pk__in=ids["model"]).values_list("id", "name")),
        "unit": {u.pk: str(u) for u in units},
    }


def _shown(attr: str, value: Any, labels: dict[str, dict[Any, str]]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if attr in ("side_id", "captured_by_id"):
        return labels["side"].get(value, f"#{value}")
    if attr == "model_id":
        return labels["model"].get(value, f"#{value}")
    if attr == "admin_unit_id":
        return labels["unit"].get(value, f"#{value}")
    if attr == "fate_history":
        return fate_history_text(value)
    if attr == "tag_names":
        return ", ".join(sorted(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def loss_public_history(*, loss: Loss) -> list[HistoryEntry]:
    """Return a verified loss's public history, oldest first (see the module's docstring); a
    loss merged into another since ends on a "merged_into" entry."""
    public = list(
        LossVersion._default_manager.filter(
            record_id=loss.pk, status=ReviewStatus.VERIFIED, deleted_at__isnull=True
        ).order_by("version")
    )
    labels = _labels(public)
    entries: list[HistoryEntry] = []
    previous = None
    for version in public:
        v: Any = version
        if previous is None:
            entries.append(HistoryEntry(at=v.valid_from, kind="published"))
        else:
            changes = [
                Change(label, _shown(attr, old, labels), _shown(attr, new, labels))
                for attr, label in PUBLIC_FIELDS
                if (new := getattr(v, attr)) != (old := getattr(previous, attr))
            ]
            if changes:
                entries.append(HistoryEntry(at=v.valid_from, kind="changed", changes=changes))
        previous = v
    merged = (
        LossVersion._default_manager.filter(
            merged_into_id=loss.pk, status=ReviewStatus.MERGED, record__merged_into=loss
        )
        .values("record_id")
        .annotate(at=Min("valid_from"))
    )
    for row in merged:
        entries.append(HistoryEntry(at=row["at"], kind="merged", merged_id=row["record_id"]))
    if entries and loss.status == ReviewStatus.MERGED and loss.merged_into_id is not None:
        at = (
            LossVersion._default_manager.filter(record_id=loss.pk, status=ReviewStatus.MERGED)
            .order_by("-version")
            .values_list("valid_from", flat=True)
            .first()
        )
        if at is not None:
            entries.append(HistoryEntry(at=at, kind="merged_into", merged_id=loss.merged_into_id))
    entries.sort(key=lambda e: (e.at, e.kind != "published"))
    return entries
