"""Open-data files of the public ledger, written to storage by a job and served as downloads:
every loss as CSV and JSON, and the full snapshot (a zip of CSVs, a SQLite file and a README)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Count, Max
from django.utils import timezone

from attrition import config
from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.losses.exports import (
    CSV_COLUMNS,
    csv_row,
    export_losses,
    export_queryset,
    loss_record,
)
from attrition.losses.tally import public_losses
from attrition.spreadsheet import cell_safe

FORMATS: tuple[Literal["csv", "json"], ...] = ("csv", "json")
DOWNLOADS = (*FORMATS, "zip")
MANIFEST = "exports/manifest.json"


def snapshot_name(fmt: str) -> str:
    """Return the storage name of the latest download in a format (csv, json or zip)."""
    if fmt == "zip":
        return "exports/attrition-snapshot.zip"
    return f"exports/losses.{fmt}"


def ledger_stamp() -> str:
    """Return a fingerprint of the public ledger: changes whenever a public loss does."""
    agg = public_losses().aggregate(n=Count("id"), last=Max("updated_at"))
    return f"{agg['n']}:{agg['last'].isoformat() if agg['last'] else '-'}"


def snapshot_manifest() -> dict[str, object] | None:
    """Return what the latest snapshot holds (when, how many, hashes), or None if none yet."""
    if not default_storage.exists(MANIFEST):
        return None
    with default_storage.open(MANIFEST) as fh:
        manifest: dict[str, object] = json.load(fh)
    return manifest


def snapshot_refresh(*, force: bool = False) -> dict[str, int]:
    """Write fresh CSV and JSON files of the public ledger unless nothing changed since the last."""
    stamp = ledger_stamp()
    manifest = snapshot_manifest()
    if not force and manifest is not None and manifest.get("stamp") == stamp:
        return {}
    counts: dict[str, int] = {}
    files: dict[str, dict[str, object]] = {}
    for fmt in FORMATS:
        buffer = io.StringIO()
        counts[fmt] = export_losses(fmt=fmt, out=buffer)
        data = buffer.getvalue().encode()
        name = snapshot_name(fmt)
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(data))
        files[fmt] = {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    files["zip"] = _zip_refresh(stamp=stamp, losses=counts["csv"])
    new_manifest = {
        "stamp": stamp,
        "generated_at": timezone.now().isoformat(),
        "losses": counts["csv"],
        "files": files,
    }
    if default_storage.exists(MANIFEST):
        default_storage.delete(MANIFEST)
    default_storage.save(MANIFEST, ContentFile(json.dumps(new_manifest, indent=1).encode()))
    return counts


def _zip_refresh(*, stamp: str, losses: int) -> dict[str, object]:
    """Write the full snapshot zip to storage (through a temporary file); return its entry."""
    name = snapshot_name("zip")
    with tempfile.TemporaryDirectory(prefix="attrition-snapshot-") as folder:
        path = Path(folder) / "snapshot.zip"
        dataset_zip_write(path=path, data_version=stamp)
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if default_storage.exists(name):
            default_storage.delete(name)
        with path.open("rb") as fh:
            default_storage.save(name, File(fh))
        size = path.stat().st_size
    return {"name": name, "bytes": size, "sha256": digest.hexdigest(), "losses": losses}


# --- The full snapshot: tables as CSV files and as one SQLite file, with a README -------------

Rows = Callable[[], Iterator[dict[str, Any]]]
INTEGER, REAL = {"id", "loss_id"}, {"lon", "lat"}


def _public_records() -> Iterator[dict[str, Any]]:
    queryset = public_losses().filter(conflict__is_public=True).order_by("id")
    for loss in export_queryset(queryset).iterator(chunk_size=500):
        yield loss_record(loss)


def _loss_rows() -> Iterator[dict[str, Any]]:
    for record in _public_records():
        yield csv_row(record)


def _evidence_rows() -> Iterator[dict[str, Any]]:
    for record in _public_records():
        for ev in record["evidence"]:
            yield {"loss_id": record["id"], **ev}


def _catalog_rows(kind: str) -> Iterator[dict[str, Any]]:
    if kind == "conflicts":
        for c in Conflict.objects.filter(is_public=True).order_by("slug"):
            yield {
                "slug": c.slug,
                "name": c.name,
                "period_start": c.period_start.isoformat() if c.period_start else "",
                "period_end": c.period_end.isoformat() if c.period_end else "",
                "description": c.description,
            }
    elif kind == "sides":
        for side in Side.objects.filter(conflict__is_public=True).select_related("conflict"):
            yield {
                "conflict": side.conflict.slug,
                "slug": side.slug,
                "name": side.name,
                "short_name": side.short_name,
            }
    elif kind == "categories":
        for cat in Category.objects.all():
            yield {"slug": cat.slug, "name": cat.name}
    else:
        for model in EquipmentModel.objects.select_related("category").order_by("slug"):
            yield {
                "slug": model.slug,
                "name": model.name,
                "category": model.category.slug,
                "country_of_production": model.country_of_production,
            }


# name: (columns, rows, what each row is)
TABLES: dict[str, tuple[list[str], Rows, str]] = {
    "losses": (CSV_COLUMNS, _loss_rows, "one verified loss (one physical item)"),
    "evidence": (
        ["loss_id", "url", "platform", "posted_at", "is_sample"],
        _evidence_rows,
        "one piece of evidence showing one loss (a post may show many losses)",
    ),
    "conflicts": (
        ["slug", "name", "period_start", "period_end", "description"],
        lambda: _catalog_rows("conflicts"),
        "a public conflict",
    ),
    "sides": (
        ["conflict", "slug", "name", "short_name"],
        lambda: _catalog_rows("sides"),
        "a side of a conflict (`losses.side` and `losses.captured_by` name its slug)",
    ),
    "categories": (
        ["slug", "name"],
        lambda: _catalog_rows("categories"),
        "an equipment category (`losses.category`)",
    ),
    "models": (
        ["slug", "name", "category", "country_of_production"],
        lambda: _catalog_rows("models"),
        "an equipment model (`losses.model` names it)",
    ),
}


def _sql_type(column: str) -> str:
    return "INTEGER" if column in INTEGER else "REAL" if column in REAL else "TEXT"


def _readme(*, data_version: str, counts: dict[str, int]) -> str:
    boundaries = sorted(
        {
            f"{c.boundary_set.name}: {c.boundary_set.attribution} ({c.boundary_set.licence})"
            for c in Conflict.objects.filter(
                is_public=True, boundary_set__isnull=False
            ).select_related("boundary_set")
            if c.boundary_set is not None
        }
    )
    lines = [
        f"# {settings.SITE_NAME}: open data snapshot",
        "",
        f"Data version: `{data_version}` (number of public losses : time of the last change).",
        f"Generated at: {timezone.now().isoformat()}.",
        "",
        "Verified losses only: each physical item once, under its last known fate; duplicates",
        "merged; claims and estimates are not included. Every number is computed from these rows.",
        "",
        "## Licence and attribution",
        "",
        f"The data is published under {config.DATA_LICENCE.read()}. Cite it as: "
        f'"{settings.SITE_NAME}, data version {data_version}".',
        "The evidence links point to their original publishers, who keep their rights.",
    ]
    lines += [f"Place names and boundaries: {b}." for b in boundaries]
    lines += [
        "",
        "## Files",
        "",
        "Each table is in `<table>.csv` (UTF-8, a header row) and in `attrition.sqlite`. In the",
        "CSV files a text that starts with =, +, -, @, a tab or a carriage return has an",
        "apostrophe put before it, so that a spreadsheet shows it and never runs it as a formula;",
        "`attrition.sqlite` holds every value as it is.",
        "",
    ]
    for name, (columns, _rows, what) in TABLES.items():
        lines.append(f"### {name} ({counts.get(name, 0)} rows): {what}")
        lines.append("")
        lines += [f"- `{c}` ({_sql_type(c).lower()})" for c in columns]
        lines.append("")
    lines += [
        "In `losses`: `fate` is the headline fate; `fate_history` lists every state in order;",
        "`tags` are `;`-separated and `evidence_urls` space-separated; dates are ISO 8601;",
        "`lon`/`lat` are WGS84 degrees; `admin_unit_code` is the boundary set's unit code.",
        "",
    ]
    return "\n".join(lines)


def dataset_zip_write(*, path: Path, data_version: str) -> dict[str, int]:
    """Write the full snapshot zip to `path`, table by table; return the rows of each table."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="attrition-sqlite-") as folder:
        db_path = Path(folder) / "attrition.sqlite"
        db = sqlite3.connect(db_path)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, (columns, rows, _what) in TABLES.items():
                counts[name] = _table_write(archive, db, name, columns, rows())
            db.commit()
            db.close()
            archive.write(db_path, "attrition.sqlite")
            readme = _readme(data_version=data_version, counts=counts)
            archive.writestr("README.md", readme)
    return counts


def _table_write(
    archive: zipfile.ZipFile,
    db: sqlite3.Connection,
    name: str,
    columns: list[str],
    rows: Iterable[dict[str, Any]],
) -> int:
    column_sql = ", ".join(f'"{c}" {_sql_type(c)}' for c in columns)
    db.execute(f'CREATE TABLE "{name}" ({column_sql})')
    insert = f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in columns)})'  # noqa: S608
    count = 0
    with archive.open(f"{name}.csv", "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        batch: list[list[Any]] = []
        for row in rows:
            writer.writerow({k: cell_safe(v) for k, v in row.items()})
            batch.append([row.get(c) for c in columns])
            count += 1
            if len(batch) >= 500:
                db.executemany(insert, batch)
                batch = []
        db.executemany(insert, batch)
        text.flush()
        text.detach()
    return count
