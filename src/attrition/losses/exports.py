"""Open-data exports of losses with their evidence, as CSV, JSON or GeoJSON, streamed row by row.

Any filtered list can be exported: `export_stream()` takes the queryset the list page and the API
show (see losses.selectors.losses_filter) and yields text chunks, a few hundred rows at a time, so
that memory stays constant whatever the size of the export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TextIO

from django.db.models import Prefetch, QuerySet

from attrition.errors import InvalidInput
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Depiction, Loss
from attrition.losses.tally import public_losses
from attrition.spreadsheet import cell_safe

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


EXPORT_FORMATS = ("csv", "json", "geojson")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
}
CHUNK = 500


def export_queryset(queryset: QuerySet[Loss]) -> QuerySet[Loss]:
    """Return `queryset` with what each exported record needs fetched alongside it."""
    depictions = Depiction.objects.filter(
        deleted_at__isnull=True, evidence__deleted_at__isnull=True
    ).select_related("evidence")
    return (
        queryset.select_related(
            "conflict", "side", "model", "model__category", "captured_by", "admin_unit"
        )
        # The place's outline is a large JSON document: decoding it per row made exports ~10x
        # slower (bench/publish.py).
        .defer("admin_unit__geometry")
        .prefetch_related(Prefetch("depictions", queryset=depictions), "tags")
    )


def _queryset(*, include_unpublished: bool) -> QuerySet[Loss]:
    base = (
        Loss.objects.all()
        if include_unpublished
        else public_losses().filter(conflict__is_public=True)
    )
    return export_queryset(base).order_by("conflict_id", "id")


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
    for loss in _queryset(include_unpublished=include_unpublished).iterator(chunk_size=CHUNK):
        yield loss_record(loss)


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """Return a loss record as a row of CSV_COLUMNS (lists joined, fate history in words)."""
    row = {k: record[k] for k in CSV_COLUMNS if k in record}
    row["fate_history"] = fate_history_text(record["fate_history"])
    row["tags"] = ";".join(record["tags"])
    row["evidence_urls"] = " ".join(e["url"] for e in record["evidence"])
    return row


def csv_cells(record: dict[str, Any]) -> dict[str, Any]:
    """Return a loss record as a CSV file holds it: `csv_row`, with every text a spreadsheet
    would run as a formula written as text (attrition.spreadsheet)."""
    return {k: cell_safe(v) for k, v in csv_row(record).items()}


def geojson_feature(record: dict[str, Any]) -> dict[str, Any]:
    """Return a loss record as a GeoJSON Feature (geometry null where no point is known)."""
    properties = {k: v for k, v in record.items() if k not in ("lon", "lat")}
    geometry = None
    if record["lon"] is not None and record["lat"] is not None:
        geometry = {"type": "Point", "coordinates": [record["lon"], record["lat"]]}
    return {"type": "Feature", "id": record["id"], "geometry": geometry, "properties": properties}


class _Line:
    """A file-like object whose write() returns what it was given (csv.writer into a stream)."""

    def write(self, text: str) -> str:
        return text


def export_stream(*, queryset: QuerySet[Loss], fmt: str, ordered: bool = True) -> Iterator[str]:
    """Yield `queryset` as CSV, JSON or GeoJSON text, chunk by chunk, in its own order.

    `ordered=False` orders by id (the queryset's own order is kept otherwise).
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    qs = export_queryset(queryset if ordered else queryset.order_by("id"))
    records = (loss_record(loss) for loss in qs.iterator(chunk_size=CHUNK))
    if fmt == "csv":
        return _csv_chunks(records)
    return _json_chunks(records, geojson=fmt == "geojson")


def _csv_chunks(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.DictWriter(_Line(), fieldnames=CSV_COLUMNS, lineterminator="\n")
    yield writer.writeheader()
    batch: list[str] = []
    for record in records:
        batch.append(writer.writerow(csv_cells(record)))
        if len(batch) >= CHUNK:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _json_chunks(records: Iterable[dict[str, Any]], *, geojson: bool) -> Iterator[str]:
    yield '{"type": "FeatureCollection", "features": [' if geojson else "["
    batch: list[str] = []
    first = True
    for record in records:
        item = geojson_feature(record) if geojson else record
        batch.append(("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False))
        first = False
        if len(batch) >= CHUNK:
            yield "".join(batch)
            batch = []
    yield "".join(batch) + ("\n]}\n" if geojson else "\n]\n")


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
            writer.writerow(csv_cells(record))
            count += 1
        return count
    out.write("[")
    for record in _records(include_unpublished=include_unpublished):
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count
