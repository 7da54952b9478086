"""Open-data exports of losses with their evidence, as CSV or JSON, streamed row by row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, Literal, TextIO

from django.db.models import Prefetch, QuerySet

from attrition.errors import InvalidInput
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Depiction, Loss
from attrition.losses.tally import public_losses

CSV_COLUMNS = [
    "id",
    "conflict",
    "side",
    "category",
    "model",
    "fate",
    "fate_history",
    "captured_by",
    "first_seen",
    "first_seen_precision",
    "admin_unit_code",
    "admin_unit",
    "lon",
    "lat",
    "place_precision",
    "unit",
    "markings",
    "tags",
    "status",
    "is_sample",
    "evidence_urls",
]


def _queryset(*, include_unpublished: bool) -> QuerySet[Loss]:
    base = (
        Loss.objects.all()
        if include_unpublished
        else public_losses().filter(conflict__is_public=True)
    )
    depictions = Depiction.objects.filter(deleted_at__isnull=True).select_related("evidence")
    return (
        base.select_related(
            "conflict", "side", "model", "model__category", "captured_by", "admin_unit"
        )
        .prefetch_related(Prefetch("depictions", queryset=depictions), "tags")
        .order_by("conflict_id", "id")
    )


def loss_record(loss: Loss) -> dict[str, Any]:
    """Return one loss as a plain JSON-ready dict with its evidence."""
    evidence = []
    seen = set()
    for depiction in loss.depictions.all():
        if depiction.evidence_id in seen:
            continue
        seen.add(depiction.evidence_id)
        ev = depiction.evidence
        evidence.append(
            {
                "url": ev.url,
                "platform": ev.platform,
                "posted_at": ev.posted_at.isoformat() if ev.posted_at else None,
                "is_sample": ev.is_sample,
            }
        )
    unit = loss.admin_unit
    return {
        "id": loss.pk,
        "conflict": loss.conflict.slug,
        "side": loss.side.slug,
        "category": loss.model.category.slug,
        "model": loss.model.name,
        "fate": loss.fate,
        "fate_history": loss.fate_history,
        "captured_by": loss.captured_by.slug if loss.captured_by else None,
        "first_seen": loss.first_seen.isoformat() if loss.first_seen else None,
        "first_seen_precision": loss.first_seen_precision,
        "admin_unit_code": unit.code if unit else None,
        "admin_unit": unit.name if unit else None,
        "lon": loss.lon,
        "lat": loss.lat,
        "place_precision": loss.place_precision,
        "unit": loss.unit,
        "markings": loss.markings,
        "tags": sorted(t.name for t in loss.tags.all()),
        "status": loss.status,
        "is_sample": loss.is_sample,
        "evidence": evidence,
    }


def _records(*, include_unpublished: bool) -> Iterator[dict[str, Any]]:
    for loss in _queryset(include_unpublished=include_unpublished).iterator(chunk_size=500):
        yield loss_record(loss)


def export_losses(
    *, fmt: Literal["csv", "json"], out: TextIO, include_unpublished: bool = False
) -> int:
    """Write every public loss (or every loss) to `out` as CSV or JSON; return how many."""
    if fmt not in ("csv", "json"):
        raise InvalidInput(f"unknown export format {fmt!r}: use csv or json")
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in _records(include_unpublished=include_unpublished):
            row = {k: record[k] for k in CSV_COLUMNS if k in record}
            row["fate_history"] = fate_history_text(record["fate_history"])
            row["tags"] = ";".join(record["tags"])
            row["evidence_urls"] = " ".join(e["url"] for e in record["evidence"])
            writer.writerow(row)
            count += 1
        return count
    out.write("[")
    for record in _records(include_unpublished=include_unpublished):
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count
