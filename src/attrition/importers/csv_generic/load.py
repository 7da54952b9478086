"""Turn a mapped CSV file into ledger records: plan it (reads only), then apply it (writes).

One source record per row, keyed by the mapping's namespace and the row's id (or a hash of its
cells), so that importing the same file again changes nothing. A row whose cells changed updates
only the loss fields whose imported values changed, leaving the edits made here to other fields.
"""

from __future__ import annotations

import graphlib
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from attrition import history
from attrition.catalog.models import EquipmentModel
from attrition.catalog.services import model_add_alias
from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create
from attrition.importers import linking
from attrition.importers.csv_generic.decode import Table
from attrition.importers.csv_generic.mapping import MappingSpec
from attrition.importers.csv_generic.values import NewModel, RowReader, RowValues
from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, ImportRefused, Progress
from attrition.importers.report import Change, ImportReport, Rejection
from attrition.losses.models import Depiction, Loss
from attrition.losses.services import depiction_create, loss_create, loss_update

SOURCE = "csv"
VIA = "import"
CHUNK = 500
# Imported values that are not loss fields of the same name.
# A file without the columns of these fields is refused; other mapped columns may be absent.
KEY_FIELDS = {"conflict", "side", "model", "category", "fate", "external_id"}
SPECIAL = {"conflict", "side", "model", "fates", "tags", "evidence_urls", "is_sample"}


@dataclass
class PlannedRow:
    """One row of the file and what the import does with it."""

    row: RowValues
    raw: dict[str, Any]
    content_hash: str
    label: str = ""
    category: str = ""
    record: SourceRecord | None = None
    changed: list[str] = field(default_factory=list)
    # The loss of another source this row joins (same evidence), if any.
    link: int | None = None


@dataclass
class CsvPlan:
    """What importing one file writes; `report` says it in words."""

    report: ImportReport
    create: list[PlannedRow] = field(default_factory=list)
    update: list[PlannedRow] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    new_models: dict[str, NewModel] = field(default_factory=dict)


def _keys(header: list[str], spec: MappingSpec) -> list[str]:
    """Return a unique key per column; refuse a file that lacks or repeats a mapped column."""
    keys: list[str] = []
    for index, name in enumerate(header):
        key = name or f"column {index + 1}"
        keys.append(key if key not in keys else f"{key} ({index + 1})")
    mapped = spec.columns()
    missing = sorted({c for f, c in mapped.items() if c not in header and f in KEY_FIELDS})
    if missing:
        raise ImportRefused(
            f"the file has no column(s) {', '.join(map(repr, missing))} that the mapping reads; "
            f"its columns are: {', '.join(map(repr, header))}. Nothing was imported"
        )
    twice = sorted({c for c in mapped.values() if header.count(c) > 1})
    if twice:
        raise ImportRefused(f"the header repeats the mapped column(s) {', '.join(twice)}")
    return keys


def _cells(keys: list[str], cells: list[str]) -> dict[str, str] | str:
    extra = cells[len(keys) :]
    if len(cells) < len(keys) or any(c.strip() for c in extra):
        return f"has {len(cells)} cells where the header has {len(keys)} columns"
    return dict(zip(keys, cells, strict=False))


def _hash(cells: dict[str, str], values: dict[str, Any]) -> str:
    data = json.dumps({"cells": cells, "values": values}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def plan_make(*, table: Table, spec: MappingSpec, options: ImportOptions) -> CsvPlan:
    """Return what importing the table would create, update and reject, without writing."""
    report = ImportReport(importer=SOURCE, source=table.source_name)
    report.notes += table.notes
    keys = _keys(table.header, spec)
    absent = sorted({c for c in spec.columns().values() if c not in table.header})
    if absent:
        report.notes.append(
            f"mapped columns not in the file (those fields stay empty): {', '.join(absent)}"
        )
    unread = [k for k in keys if k not in spec.columns().values()]
    if unread:
        report.notes.append(f"columns not mapped (kept in the raw records): {', '.join(unread)}")
    reader = RowReader(spec=spec, options=options)
    plan = CsvPlan(report=report, new_models=reader.new_models)
    rows: list[tuple[RowValues, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for number, raw_cells in table.rows:
        cells = _cells(keys, raw_cells)
        if isinstance(cells, str):
            report.rejected.append(Rejection(f"row {number}", cells))
            continue
        row = reader.read(number, cells)
        if isinstance(row, list):
            report.rejected.append(Rejection(f"row {number}", "; ".join(map(str, row))))
            continue
        if row.external_id in seen:
            hint = " (identical cells; map an id column)" if ":sha256:" in row.external_id else ""
            report.rejected.append(
                Rejection(
                    f"row {number}",
                    f"the same id {row.external_id!r} as row {seen[row.external_id]}{hint}",
                )
            )
            continue
        seen[row.external_id] = number
        rows.append((row, cells))
    if not rows:
        shown = "; ".join(f"{r.what}: {r.reason}" for r in report.rejected[:5])
        raise ImportRefused(
            f"the file has no row that can be imported ({len(report.rejected)} rejected"
            + (f": {shown}" if shown else "")
            + "). Nothing was imported"
        )
    _plan_rows(plan, rows, spec)
    _plan_links(plan)
    report.models_created = [f"{m.name} ({m.category.name})" for m in plan.new_models.values()]
    return plan


def _plan_rows(
    plan: CsvPlan, rows: list[tuple[RowValues, dict[str, str]]], spec: MappingSpec
) -> None:
    columns = spec.columns()
    ids = [row.external_id for row, _ in rows]
    existing: dict[str, SourceRecord] = {}
    for start in range(0, len(ids), CHUNK):
        existing.update(
            (r.external_id, r)
            for r in SourceRecord.objects.filter(
                source=SOURCE, external_id__in=ids[start : start + CHUNK]
            ).only("id", "external_id", "content_hash", "raw", "loss_id")
        )
    for row, cells in rows:
        values = row.plain()
        raw = {"row": row.number, "cells": cells, "values": values}
        planned = PlannedRow(
            row=row,
            raw=raw,
            content_hash=_hash(cells, values),
            label=" | ".join(cells.get(columns.get(f, ""), "") for f in ("model", "fate")),
            category=cells.get(columns.get("category", ""), ""),
        )
        record = existing.get(row.external_id)
        if record is None:
            plan.create.append(planned)
            plan.report.created.append(f"row {row.number}: {row.external_id}")
            continue
        if record.content_hash == planned.content_hash:
            plan.unchanged_ids.append(record.pk)
            plan.report.unchanged.append(row.external_id)
            continue
        old = record.raw.get("values") or {}
        if old.get("conflict", values["conflict"]) != values["conflict"]:
            plan.report.rejected.append(
                Rejection(
                    f"row {row.number}",
                    f"{row.external_id} was imported into {old['conflict']}: a loss cannot "
                    f"move to {values['conflict']}",
                )
            )
            continue
        planned.record = record
        planned.changed = sorted(k for k in values if old.get(k) != values[k])
        plan.update.append(planned)
        what = ", ".join(planned.changed) or "only columns that are not mapped"
        plan.report.updated.append(Change(row.external_id, f"row {row.number}: {what} changed"))


def _plan_links(plan: CsvPlan) -> None:
    """Mark the new rows that join a loss another source recorded with the same evidence."""
    by_conflict: dict[int, list[PlannedRow]] = {}
    for planned in plan.create:
        if planned.row.urls:
            by_conflict.setdefault(planned.row.conflict.pk, []).append(planned)
    for rows in by_conflict.values():
        candidates = []
        for p in rows:
            model = p.row.model
            known = model if isinstance(model, EquipmentModel) else None
            candidates.append(
                linking.Candidate(
                    key=p.row.external_id,
                    urls=tuple(p.row.urls),
                    side_id=p.row.side.pk,
                    model_id=known.pk if known else None,
                    category_id=known.category_id if known else model.category.pk,
                    reported=f"row {p.row.number}: {p.row.external_id}",
                )
            )
        links = linking.links_plan(
            candidates, source=SOURCE, conflict=rows[0].row.conflict, report=plan.report
        )
        for p in rows:
            p.link = links.get(p.row.external_id)


# -- applying --------------------------------------------------------------------------------


def _model_create(new: NewModel, *, by: Any, source: str) -> EquipmentModel:
    base = slugify(new.name)[:110] or "model"
    slug, n = base, 2
    while EquipmentModel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    model = EquipmentModel.objects.create(slug=slug, name=new.name, category=new.category)
    history.record_version(
        model, by=by, kind=history.ChangeKind.IMPORT, reason=f"named in {source}", via=VIA
    )
    model_add_alias(model=model, alias=new.name)
    return model


def _url_order(rows: list[PlannedRow]) -> list[tuple[str, str]]:
    """Return every URL once, in an order that keeps each row's own order where it can.

    Our export lists a loss's evidence by evidence id; creating the evidence in an order
    consistent with every row makes a re-export list it the same way.
    """
    written: dict[str, str] = {}
    graph: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for planned in rows:
        urls = list(planned.row.urls)
        for url in urls:
            written.setdefault(url, planned.row.urls[url])
            graph.add(url)
        for before, after in itertools.pairwise(urls):
            graph.add(after, before)
    try:
        order = list(graph.static_order())
    except graphlib.CycleError:
        order = list(written)
    return [(url, written[url]) for url in order]


def _evidence(urls: list[tuple[str, str]], *, by: Any) -> dict[str, Evidence]:
    found: dict[str, Evidence] = {}
    canonical = [url for url, _ in urls]
    for start in range(0, len(canonical), CHUNK):
        chunk = canonical[start : start + CHUNK]
        known = Evidence.objects.filter(canonical_url__in=chunk)
        found.update((e.canonical_url or "", e) for e in known)
    for url, written in urls:
        if url not in found:
            found[url] = evidence_create(url=written, by=by, via=VIA)
    return found


def plan_apply(*, plan: CsvPlan, options: ImportOptions, progress: Progress) -> None:
    """Write the plan: new models, evidence, losses with depictions, source records."""
    by = options.by
    for new in plan.new_models.values():
        new.model = _model_create(new, by=by, source=plan.report.source)
    progress.start(len(plan.create) + len(plan.update) + 1)
    evidence = _evidence(_url_order([*plan.create, *plan.update]), by=by)
    progress.advance()
    for planned in plan.create:
        _row_create(planned, evidence=evidence, options=options, source=plan.report.source)
        progress.advance()
    for planned in plan.update:
        _row_update(planned, evidence=evidence, by=by, source=plan.report.source)
        progress.advance()
    SourceRecord.objects.filter(pk__in=plan.unchanged_ids).update(last_seen_at=timezone.now())


def _model(row: RowValues) -> EquipmentModel:
    model = row.model.model if isinstance(row.model, NewModel) else row.model
    assert model is not None, "new models are created before the rows"
    return model


def _row_create(
    planned: PlannedRow, *, evidence: dict[str, Evidence], options: ImportOptions, source: str
) -> None:
    row = planned.row
    if planned.link is not None:
        loss = Loss.objects.get(pk=planned.link)
        shown = set(
            Depiction.objects.filter(loss=loss, deleted_at__isnull=True).values_list(
                "evidence_id", flat=True
            )
        )
        for url in row.urls:
            if evidence[url].pk not in shown:
                depiction_create(loss=loss, evidence=evidence[url], by=options.by, via=VIA)
        _record_create(planned, loss=loss, evidence=evidence)
        return
    loss = loss_create(
        conflict=row.conflict,
        side=row.side,
        model=_model(row),
        fates=row.fates,
        by=options.by,
        status=options.status,
        tags=row.tags,
        is_sample=row.is_sample,
        via=VIA,
        reason=f"imported from {source}, row {row.number}",
        **row.fields,
    )
    for url in row.urls:
        depiction_create(loss=loss, evidence=evidence[url], by=options.by, via=VIA)
    _record_create(planned, loss=loss, evidence=evidence)


def _record_create(planned: PlannedRow, *, loss: Loss, evidence: dict[str, Evidence]) -> None:
    row = planned.row
    SourceRecord.objects.create(
        source=SOURCE,
        external_id=row.external_id,
        raw_label=planned.label,
        raw_category=planned.category[:300],
        raw=planned.raw,
        loss=loss,
        evidence=evidence[next(iter(row.urls))] if row.urls else None,
        content_hash=planned.content_hash,
    )


def _row_update(
    planned: PlannedRow, *, evidence: dict[str, Evidence], by: Any, source: str
) -> None:
    row, record = planned.row, planned.record
    assert record is not None, "only recorded rows are updated"
    if record.loss_id is not None and planned.changed:
        loss = Loss.objects.get(pk=record.loss_id)
        changes: dict[str, Any] = {
            k: v for k, v in row.fields.items() if k in planned.changed and k not in SPECIAL
        }
        if "side" in planned.changed:
            changes["side"] = row.side
        if "model" in planned.changed:
            changes["model"] = _model(row)
        loss = loss_update(
            loss=loss,
            by=by,
            fates=row.fates if "fates" in planned.changed else None,
            tags=row.tags if "tags" in planned.changed else None,
            reason=f"row {row.number} of {source} changed: {', '.join(planned.changed)}",
            via=VIA,
            **changes,
        )
        shown = set(
            Depiction.objects.filter(loss=loss, deleted_at__isnull=True).values_list(
                "evidence__canonical_url", flat=True
            )
        )
        for url in row.urls:
            if url not in shown:
                depiction_create(loss=loss, evidence=evidence[url], by=by, via=VIA)
    record.raw = planned.raw
    record.raw_label = planned.label
    record.raw_category = planned.category[:300]
    record.content_hash = planned.content_hash
    record.removed_at = None
    record.save(
        update_fields=[
            "raw",
            "raw_label",
            "raw_category",
            "content_hash",
            "removed_at",
            "last_seen_at",
        ]
    )
