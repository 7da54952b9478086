"""Turn WarSpotting records into ledger records: plan it (reads only), then apply it (writes).

One source record and one loss per WarSpotting id, hashed, so that importing the same records
again changes nothing and a changed record changes its loss (a new version, via "import"), only
in the fields WarSpotting changed. A record missing from a day the input holds in full is marked
removed (its source record dated, its loss tagged), never deleted; one that comes back is unmarked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from attrition import history
from attrition.catalog.models import Category, CategoryMapping, Conflict, EquipmentModel, Side
from attrition.catalog.services import alias_normalize, model_add_alias, model_lookup
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create, url_canonical
from attrition.importers import linking
from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, ImportRefused, Progress
from attrition.importers.removed import record_mark, tag_names, tags_without
from attrition.importers.report import Change, ImportReport, Rejection
from attrition.importers.warspotting.parse import BadRecord, Feed, Record, record_parse
from attrition.losses.choices import DatePrecision, Fate
from attrition.losses.models import Depiction, Loss
from attrition.losses.services import depiction_create, loss_create, loss_update

SOURCE = "warspotting"
VIA = "import"
DEFAULT_CONFLICT = "russia-ukraine-2022"
# The tag a loss gets while its WarSpotting record is gone from WarSpotting.
REMOVED_TAG = "removed from WarSpotting"
CHUNK = 500


@dataclass
class NewModel:
    """A model WarSpotting names that the catalog does not have yet."""

    name: str
    category: Category
    model: EquipmentModel | None = None


@dataclass
class Planned:
    """One record and what the import does with it."""

    record: Record
    content_hash: str
    side: Side
    model: EquipmentModel | NewModel
    urls: list[str]
    existing: SourceRecord | None = None
    old: Record | None = None
    change: str = ""
    # The loss of another source this record joins (same evidence), if any.
    link: int | None = None


@dataclass
class WarSpottingPlan:
    """What importing one input writes; `report` says it in words."""

    report: ImportReport
    conflict: Conflict
    create: list[Planned] = field(default_factory=list)
    update: list[Planned] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    returned: list[SourceRecord] = field(default_factory=list)
    removed: list[SourceRecord] = field(default_factory=list)
    new_models: dict[str, NewModel] = field(default_factory=dict)


def content_hash(raw: dict[str, Any]) -> str:
    """Return the SHA-256 of a raw record, keys sorted."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


# -- planning --------------------------------------------------------------------------------


def conflict_for(options: ImportOptions) -> Conflict:
    """Return the conflict to import into: the one chosen, or the Russian invasion of Ukraine."""
    slug = options.conflict or DEFAULT_CONFLICT
    conflict = Conflict.objects.filter(slug=slug).first()
    if conflict is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        hint = "" if options.conflict else " (load the reference data first: `attrition reference`)"
        raise ImportRefused(f"no conflict {slug!r}{hint}; known: {known}")
    return conflict


def _existing(ids: list[str]) -> dict[str, SourceRecord]:
    found: dict[str, SourceRecord] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(
            (r.external_id, r)
            for r in SourceRecord.objects.filter(
                source=SOURCE, external_id__in=ids[start : start + CHUNK]
            )
        )
    return found


class _Models:
    """Resolves WarSpotting type and model to catalog models, planning the ones to create."""

    def __init__(self, plan: WarSpottingPlan) -> None:
        self.plan = plan
        self.found: dict[str, EquipmentModel | NewModel | str] = {}

    def get(self, record: Record) -> EquipmentModel | NewModel | str:
        key = alias_normalize(record.model)
        if key not in self.found:
            self.found[key] = self._resolve(record, key)
        return self.found[key]

    def _resolve(self, record: Record, key: str) -> EquipmentModel | NewModel | str:
        if not key:
            return f"model name {record.model!r} has no letters or digits"
        model = model_lookup(name=record.model)
        if model is not None:
            return model
        today = timezone.now().date()
        mapping = (
            CategoryMapping.objects.select_related("category")
            .filter(source=CategoryMapping.Source.WARSPOTTING, source_category=record.type)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
            .order_by("-valid_from")
            .first()
        )
        if mapping is None:
            return (
                f"new model {record.model!r}, and no category mapping for the WarSpotting type "
                f"{record.type!r}: add one (source warspotting) in the admin"
            )
        new = NewModel(name=record.model, category=mapping.category)
        self.plan.new_models[key] = new
        self.plan.report.models_created.append(f"{new.name} ({new.category.name})")
        return new


def _urls(record: Record, report: ImportReport) -> list[str]:
    urls: list[str] = []
    for link in record.links:
        try:
            canonical = url_canonical(link)
        except InvalidInput as exc:
            report.rejected.append(Rejection(f"record {record.external_id}: link", exc.message))
            continue
        if canonical not in urls:
            urls.append(canonical)
    return urls


def _side(sides: list[Side], name: str) -> Side | None:
    wanted = name.casefold()
    for side in sides:
        if wanted in {side.slug.casefold(), side.name.casefold(), side.short_name.casefold()}:
            return side
    return None


def _old(existing: SourceRecord) -> Record | None:
    try:
        return record_parse(existing.raw)
    except BadRecord:
        return None


def _change(old: Record | None, new: Record) -> str:
    if old is None:
        return "the stored record could not be read again; every field is taken anew"
    parts = [
        f"{name} {a!r} -> {b!r}"
        for name, a, b in (
            ("type", old.type, new.type),
            ("model", old.model, new.model),
            ("status", old.fate.value, new.fate.value),
            ("lost by", old.lost_by, new.lost_by),
            ("date", str(old.date), str(new.date)),
            ("geo", (old.lat, old.lon), (new.lat, new.lon)),
            ("place", old.place, new.place),
            ("unit", old.unit, new.unit),
            ("tags", list(old.tags), list(new.tags)),
        )
        if a != b
    ]
    added = set(new.links) - set(old.links)
    if added:
        parts.append(f"{len(added)} new evidence link(s)")
    return "; ".join(parts) or "fields the ledger does not keep changed"


def plan_make(*, feed: Feed, options: ImportOptions) -> WarSpottingPlan:
    """Return what importing `feed` would create, update, mark and leave, writing nothing."""
    conflict = conflict_for(options)
    report = ImportReport(importer=SOURCE, source=feed.source_name)
    report.rejected += feed.rejected
    report.notes += feed.notes
    plan = WarSpottingPlan(report=report, conflict=conflict)
    sides = list(conflict.sides.all())
    existing = _existing([r.external_id for r in feed.records])
    models = _Models(plan)
    for record in feed.records:
        ext_id = record.external_id
        side = _side(sides, record.lost_by)
        if side is None:
            known = ", ".join(s.name for s in sides)
            report.rejected.append(
                Rejection(
                    f"record {ext_id}",
                    f"lost_by {record.lost_by!r} is no side of {conflict.slug} (known: {known})",
                )
            )
            continue
        found = existing.get(ext_id)
        digest = content_hash(record.raw)
        if found is not None and found.removed_at is not None:
            report.notes.append(f"record {ext_id} is back in WarSpotting: unmarked")
        if found is not None and found.content_hash == digest:
            if found.removed_at is not None:
                plan.returned.append(found)
                report.updated.append(Change(ext_id, "back in WarSpotting"))
            else:
                report.unchanged.append(ext_id)
                plan.unchanged_ids.append(found.pk)
            continue
        model = models.get(record)
        if isinstance(model, str):
            report.rejected.append(Rejection(f"record {ext_id}", model))
            continue
        planned = Planned(record, digest, side, model, _urls(record, report), found)
        if found is None:
            plan.create.append(planned)
            report.created.append(ext_id)
        else:
            planned.old = _old(found)
            planned.change = _change(planned.old, record)
            plan.update.append(planned)
            report.updated.append(Change(ext_id, planned.change))
    _plan_removed(plan, feed)
    _plan_links(plan)
    return plan


def _plan_links(plan: WarSpottingPlan) -> None:
    """Mark the new records that join a loss another source recorded with the same evidence."""
    candidates = []
    for p in plan.create:
        known = p.model if isinstance(p.model, EquipmentModel) else None
        candidates.append(
            linking.Candidate(
                key=p.record.external_id,
                urls=tuple(p.urls),
                side_id=p.side.pk,
                model_id=known.pk if known else None,
                category_id=known.category_id if known else p.model.category.pk,
            )
        )
    links = linking.links_plan(
        candidates, source=SOURCE, conflict=plan.conflict, report=plan.report
    )
    for p in plan.create:
        p.link = links.get(p.record.external_id)


def _plan_removed(plan: WarSpottingPlan, feed: Feed) -> None:
    """Find the records of the days held in full that WarSpotting no longer lists."""
    if not feed.dates:
        return
    seen = {r.external_id for r in feed.records} | feed.rejected_ids
    days = [d.isoformat() for d in feed.dates]
    for start in range(0, len(days), CHUNK):
        for record in SourceRecord.objects.filter(
            source=SOURCE, removed_at__isnull=True, raw__date__in=days[start : start + CHUNK]
        ).exclude(external_id__in=seen):
            plan.removed.append(record)
            plan.report.gone.append(record.external_id)


# -- applying --------------------------------------------------------------------------------


def _model_create(new: NewModel, *, by: Any) -> EquipmentModel:
    base = slugify(new.name)[:110] or "model"
    slug, n = base, 2
    while EquipmentModel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    model = EquipmentModel.objects.create(slug=slug, name=new.name, category=new.category)
    history.record_version(
        model, by=by, kind=history.ChangeKind.IMPORT, reason="named by WarSpotting", via=VIA
    )
    model_add_alias(model=model, alias=new.name)
    return model


def _evidence(urls: list[str], *, by: Any) -> dict[str, Evidence]:
    found: dict[str, Evidence] = {}
    for start in range(0, len(urls), CHUNK):
        chunk = urls[start : start + CHUNK]
        found.update(
            {e.canonical_url or "": e for e in Evidence.objects.filter(canonical_url__in=chunk)}
        )
    for url in urls:
        if url not in found:
            found[url] = evidence_create(url=url, by=by, via=VIA)
    return found


def _model_of(planned: Planned) -> EquipmentModel:
    model = planned.model if isinstance(planned.model, EquipmentModel) else planned.model.model
    assert model is not None, "new models are created before the records"
    return model


def _captor(side: Side, fate: Fate, sides: list[Side]) -> Side | None:
    """Return the other side of a two-sided conflict for a captured item (no captor is given)."""
    if len(sides) != 2 or fate != Fate.CAPTURED:
        return None
    return next(s for s in sides if s.pk != side.pk)


_tag_names = tag_names
_without = tags_without


def plan_apply(*, plan: WarSpottingPlan, options: ImportOptions, progress: Progress) -> None:
    """Write the plan: models, losses with evidence and depictions, source records, marks."""
    by = options.by
    for new in plan.new_models.values():
        new.model = _model_create(new, by=by)
    changed = [*plan.create, *plan.update]
    progress.start(len(changed) + len(plan.returned) + len(plan.removed) + 1)
    evidence = _evidence(sorted({u for p in changed for u in p.urls}), by=by)
    progress.advance()
    sides = list(plan.conflict.sides.all())
    for planned in plan.create:
        _record_create(planned, plan=plan, evidence=evidence, sides=sides, options=options)
        progress.advance()
    for planned in plan.update:
        _record_update(planned, evidence=evidence, sides=sides, by=by)
        progress.advance()
    now = timezone.now()
    for record in plan.returned:
        _mark(record, removed_at=None, by=by, reason="back in WarSpotting")
        progress.advance()
    for record in plan.removed:
        _mark(record, removed_at=now, by=by, reason="no longer listed by WarSpotting")
        progress.advance()
    SourceRecord.objects.filter(pk__in=plan.unchanged_ids).update(last_seen_at=now)


def _record_create(
    planned: Planned,
    *,
    plan: WarSpottingPlan,
    evidence: dict[str, Evidence],
    sides: list[Side],
    options: ImportOptions,
) -> None:
    record = planned.record
    if planned.link is not None:
        _record_link(planned, link=planned.link, evidence=evidence, by=options.by)
        return
    loss = loss_create(
        conflict=plan.conflict,
        side=planned.side,
        model=_model_of(planned),
        fates=[{"fate": record.fate.value, "detail": ""}],
        by=options.by,
        status=options.status,
        tags=record.tags,
        via=VIA,
        reason=f"imported from WarSpotting record {record.external_id}",
        captured_by=_captor(planned.side, record.fate, sides),
        first_seen=record.date,
        first_seen_precision=DatePrecision.DAY,
        lat=record.lat,
        lon=record.lon,
        place_text=record.place,
        unit=record.unit,
    )
    for url in planned.urls:
        depiction_create(loss=loss, evidence=evidence[url], by=options.by, via=VIA)
    _source_record(planned, loss=loss, evidence=evidence)


def _source_record(planned: Planned, *, loss: Loss, evidence: dict[str, Evidence]) -> None:
    """Record where a loss came from: the WarSpotting record, as read, and its first evidence."""
    record = planned.record
    SourceRecord.objects.create(
        source=SOURCE,
        external_id=record.external_id,
        raw_label=f"{record.model} ({record.fate.value})"[:1000],
        raw_category=record.type,
        raw=record.raw,
        loss=loss,
        evidence=evidence[planned.urls[0]] if planned.urls else None,
        content_hash=planned.content_hash,
    )


def _record_link(planned: Planned, *, link: int, evidence: dict[str, Evidence], by: Any) -> None:
    """Attach a record to the loss of another source citing its evidence, adding what it lacks."""
    loss = Loss.objects.get(pk=link)
    shown = set(
        Depiction.objects.filter(loss=loss, deleted_at__isnull=True).values_list(
            "evidence_id", flat=True
        )
    )
    for url in planned.urls:
        if evidence[url].pk not in shown:
            depiction_create(loss=loss, evidence=evidence[url], by=by, via=VIA)
    _source_record(planned, loss=loss, evidence=evidence)


def _loss_changes(planned: Planned, sides: list[Side]) -> dict[str, Any]:
    """Return the loss fields WarSpotting changed (all of them if the old record is unknown)."""
    old, new = planned.old, planned.record
    changes: dict[str, Any] = {}
    if old is None or (old.type, old.model) != (new.type, new.model):
        changes["model"] = _model_of(planned)
    if old is None or (old.lost_by, old.fate) != (new.lost_by, new.fate):
        changes["side"] = planned.side
        changes["captured_by"] = _captor(planned.side, new.fate, sides)
    if old is None or old.date != new.date:
        changes["first_seen"] = new.date
        changes["first_seen_precision"] = DatePrecision.DAY
    if old is None or (old.lat, old.lon) != (new.lat, new.lon):
        changes["lat"], changes["lon"] = new.lat, new.lon
    if old is None or old.place != new.place:
        changes["place_text"] = new.place
    if old is None or old.unit != new.unit:
        changes["unit"] = new.unit
    return changes


def _record_update(
    planned: Planned, *, evidence: dict[str, Evidence], sides: list[Side], by: Any
) -> None:
    found = planned.existing
    assert found is not None, "only recorded records are updated"
    old, new = planned.old, planned.record
    if found.loss_id is not None:
        loss = Loss.objects.get(pk=found.loss_id)
        changes = _loss_changes(planned, sides)
        fates = None
        if old is None or old.fate != new.fate:
            fates = [{"fate": new.fate.value, "detail": ""}]
        tags = None
        if old is None or old.tags != new.tags or found.removed_at is not None:
            current = _without(_tag_names(loss), [*(old.tags if old else ()), REMOVED_TAG])
            tags = [*current, *_without(list(new.tags), current)]
        if changes or fates is not None or tags is not None:
            loss = loss_update(
                loss=loss,
                by=by,
                fates=fates,
                tags=tags,
                reason=f"WarSpotting record {new.external_id} changed: {planned.change}",
                via=VIA,
                **changes,
            )
        shown = set(
            Depiction.objects.filter(loss=loss).values_list("evidence__canonical_url", flat=True)
        )
        for url in planned.urls:
            if url not in shown:
                depiction_create(loss=loss, evidence=evidence[url], by=by, via=VIA)
    found.raw = new.raw
    found.raw_label = f"{new.model} ({new.fate.value})"[:1000]
    found.raw_category = new.type
    found.content_hash = planned.content_hash
    found.removed_at = None
    if found.evidence_id is None and planned.urls:
        found.evidence = evidence[planned.urls[0]]
    found.save()


def _mark(record: SourceRecord, *, removed_at: Any, by: Any, reason: str) -> None:
    """Mark a source record removed from WarSpotting (or back), tagging its loss to match."""
    record_mark(
        record,
        removed_at=removed_at,
        by=by,
        reason=f"WarSpotting record {record.external_id}: {reason}",
        tag=REMOVED_TAG,
    )
