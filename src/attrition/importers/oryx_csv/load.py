"""Turn a read oryx_data set into ledger records: plan it (reads only), then apply it (writes).

One source record per item (side, model without its count, URL), hashed over what the set says
about it, so importing the same files again changes nothing and a changed row changes only its
item. The stated totals become claims by Oryx, and the report sets them beside the items read,
per category, naming what can explain a difference.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from attrition.catalog.models import Category, Conflict, EquipmentModel, ModelAlias, Side
from attrition.catalog.services import alias_normalize, model_lookup
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.evidence.services import url_canonical
from attrition.importers import bulk, linking
from attrition.importers.common import (
    UNCLASSIFIED_NAME,
    VIA,
    PlannedClaim,
    category_mapped,
    claims_create,
    claims_plan,
    conflict_get,
    content_hash,
    model_create,
    side_named,
    unclassified_ensure,
)
from attrition.importers.models import SourceRecord
from attrition.importers.oryx_csv.read import Dataset, Item, Total, file_name
from attrition.importers.registry import ImportOptions, ImportRefused, Progress
from attrition.importers.removed import record_mark, removals_check
from attrition.importers.report import Change, Check, ImportReport, Rejection
from attrition.losses.choices import DatePrecision, Fate
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Depiction, Loss
from attrition.losses.services import depiction_create, loss_build, loss_update

SOURCE = "oryx_csv"
# The tag a loss gets while its item is gone from the oryx_data set.
REMOVED_TAG = "removed from oryx_data"
DEFAULT_CONFLICT = "russia-ukraine-2022"
MAX_EXTERNAL_ID = 300
# Links first listed this long after the date in their file name are likely re-hosted copies of
# a link Oryx listed earlier (a deleted post replaced by an image), so one item may be counted
# twice in the set; the report names them where totals differ.
RELISTED_AFTER = dt.timedelta(days=30)
# The pages these totals are stated on (the set names no URL).
ORYX_PAGES = {
    "russia": "https://www.oryxspioenkop.com/2022/02/attack-on-europe-documenting-equipment.html",
    "ukraine": "https://www.oryxspioenkop.com/2022/02/attack-on-europe-documenting-ukrainian.html",
}


@dataclass
class NewModel:
    """A model the set names that the catalog does not have: filed under Unclassified."""

    name: str
    model: EquipmentModel | None = None


@dataclass
class PlannedItem:
    """One item of the set and what the import does with it."""

    item: Item
    external_id: str
    raw: dict[str, Any]
    content_hash: str
    side: Side
    model: EquipmentModel | NewModel
    url: str
    first_seen: dt.date
    record: SourceRecord | None = None
    change: str = ""
    # The loss of another source this item joins (same evidence), if any.
    link: int | None = None


@dataclass
class CsvPlan:
    """What importing one set writes; `report` says it in words."""

    report: ImportReport
    conflict: Conflict
    claimed_on: dt.date
    create: list[PlannedItem] = field(default_factory=list)
    update: list[PlannedItem] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    claims: dict[str, list[PlannedClaim]] = field(default_factory=dict)
    new_models: dict[str, NewModel] = field(default_factory=dict)
    returned: list[SourceRecord] = field(default_factory=list)
    removed: list[SourceRecord] = field(default_factory=list)
    in_scope: int = 0  # items of the scope the last import held, for the removals guard


def external_id(item: Item) -> str:
    """Return the stable id of an item: side, model name without its count, URL."""
    key = f"{item.country}|{item.model}|{item.url}"
    if len(key) <= MAX_EXTERNAL_ID:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{item.country}|{item.model[:200]}|sha256:{digest}"


def _dates(item: Item, start: dt.date | None) -> tuple[dt.date, dict[str, Any]]:
    """Return the item's first-seen date and which date is which (the set states none)."""
    from_name = item.file_date
    if from_name is not None and start is not None and from_name < start:
        from_name = None
    used = "file_name" if from_name is not None else "first_seen"
    dates = {
        "stated": None,
        "file_name": from_name.isoformat() if from_name else None,
        "first_seen": item.first_seen.isoformat(),
        "used": used,
    }
    return from_name or item.first_seen, dates


def _raw(item: Item, dates: dict[str, Any]) -> dict[str, Any]:
    rows = sorted(item.rows, key=lambda r: (item.states.index(r.fate), r.mat_id))
    return {
        "country": item.country,
        "origin": sorted({r.origin for r in item.rows}),
        "model": item.model,
        "systems": sorted({r.system for r in item.rows}),
        "url": item.url,
        "states": [s.value for s in item.states],
        "dates": dates,
        "rows": [
            {
                "status": r.fate.value,
                "date_recorded": r.recorded.isoformat(),
                "matID": r.mat_id,
                "imageID": r.image_id,
                "url_as_written": r.written_url,
            }
            for r in rows
        ],
    }


def _change(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if old.get("states") != new["states"]:
        before = fate_history_text([{"fate": s} for s in old.get("states") or []])
        after = fate_history_text([{"fate": s} for s in new["states"]])
        parts.append(f"fates {before!r} -> {after!r}")
    if old.get("dates") != new["dates"]:
        parts.append("dates changed")
    return "; ".join(parts) or "rows changed"


def plan_make(*, dataset: Dataset, options: ImportOptions) -> CsvPlan:
    """Return what importing the set would create, update and leave, without writing anything."""
    conflict = conflict_get(options.conflict or DEFAULT_CONFLICT, given=bool(options.conflict))
    claimed_on = dataset.totals_date or timezone.now().date()
    report = ImportReport(importer=SOURCE, source=dataset.source_name)
    plan = CsvPlan(report=report, conflict=conflict, claimed_on=claimed_on)
    report.rejected += [Rejection(where, why) for where, why in dataset.rejected]
    report.notes += dataset.notes
    report.notes += [f"warning: {w}" for w in dataset.warnings]
    sides = _sides(dataset, conflict, options)
    _plan_claims(plan, dataset.totals, sides)
    resolved = _plan_items(plan, dataset, sides)
    removals_check(
        removed=len(plan.removed), in_scope=plan.in_scope, options=options, source=report.source
    )
    report.checks = _checks(plan, dataset, sides, resolved)
    return plan


def _sides(dataset: Dataset, conflict: Conflict, options: ImportOptions) -> dict[str, Side | str]:
    """Return, per country of the set, the side that lost its items, or why none could be."""
    sides = list(conflict.sides.all())
    forced: Side | None = None
    if options.side:
        forced = side_named(sides, options.side)
        if forced is None:
            known = ", ".join(s.slug for s in sides)
            raise ImportRefused(f"no side {options.side!r} in {conflict.slug} (known: {known})")
    found: dict[str, Side | str] = {}
    for country in sorted({i.country for i in dataset.items} | {t.country for t in dataset.totals}):
        side = forced or side_named(sides, country)
        found[country] = side or f"country {country!r} names no side of {conflict.slug}"
    return found


def _plan_claims(plan: CsvPlan, totals: list[Total], sides: dict[str, Side | str]) -> None:
    by_url: dict[str, list[PlannedClaim]] = {}
    for total in totals:
        side = sides.get(total.country)
        if not isinstance(side, Side):
            continue
        figures = ", ".join(f"{f}: {n}" for f, n in total.by_fate.items())
        rule: dict[str, Any] = {"sides": [side.slug]}
        if total.kind == "All Types":
            scope, quote = f"{side.short_name}: all losses listed by Oryx", f"{total.total}"
        elif total.kind.startswith("Losses "):
            scope, quote = f"{side.short_name}: {total.kind.split(' - ')[0]}", total.kind
        else:
            category = category_mapped(total.kind, plan.claimed_on)
            if category is not None:
                rule["categories_in"] = [category.slug]
            scope, quote = f"{side.short_name}: {total.kind}", total.kind
        claim = PlannedClaim(
            side=side,
            scope=scope[:500],
            number=total.total,
            rule=rule,
            quote=f"{quote} ({figures})",
        )
        by_url.setdefault(ORYX_PAGES.get(side.slug, ""), []).append(claim)
    for url, claims in by_url.items():
        plan.claims[url] = claims_plan(
            claims,
            report=plan.report,
            conflict=plan.conflict,
            claimed_on=plan.claimed_on,
            source_url=url,
        )


class _Models:
    """Resolves model names to catalog models through the aliases, once per name.

    A name the catalog does not know becomes a new model under Unclassified (the set gives no
    equipment type), one per normalised name.
    """

    def __init__(self, plan: CsvPlan) -> None:
        self.plan = plan
        self.found: dict[str, EquipmentModel | NewModel | str] = {}
        self.by_name = {m.name: m for m in EquipmentModel.objects.select_related("category")}
        self.keys = {*self.by_name, *(m.slug for m in self.by_name.values())}
        self.aliases = set(ModelAlias.objects.values_list("normalized", flat=True))

    def get(self, name: str) -> EquipmentModel | NewModel | str:
        if name not in self.found:
            # model_lookup decides; names it cannot find are known without asking it.
            key = alias_normalize(name)
            model = self.by_name.get(name)
            if model is None and (name in self.keys or key in self.aliases):
                model = model_lookup(name=name)
            self.found[name] = model or self._new(name, key)
        return self.found[name]

    def _new(self, name: str, key: str) -> NewModel | str:
        if not key:
            return f"model name {name!r} has no letters or digits"
        if key not in self.plan.new_models:
            self.plan.new_models[key] = NewModel(name=name[:200])
            self.plan.report.models_created.append(f"{name[:200]} ({UNCLASSIFIED_NAME})")
        return self.plan.new_models[key]


def _plan_items(plan: CsvPlan, dataset: Dataset, sides: dict[str, Side | str]) -> dict[int, str]:
    """Plan each item; return the category name of each item read (by its index), for checks."""
    report = plan.report
    existing = {
        r.external_id: r
        for r in SourceRecord.objects.filter(source=SOURCE).only(
            "id", "external_id", "content_hash", "raw", "loss_id", "removed_at"
        )
    }
    models = _Models(plan)
    start = plan.conflict.period_start
    resolved: dict[int, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(dataset.items):
        ext_id = external_id(item)
        where = ", ".join(r.where() for r in item.rows)
        side = sides[item.country]
        model = models.get(item.model)
        if isinstance(model, EquipmentModel):
            resolved[index] = model.category.name
        elif isinstance(model, NewModel):
            resolved[index] = UNCLASSIFIED_NAME
        if not isinstance(side, Side) or isinstance(model, str):
            reason = side if isinstance(side, str) else str(model)
            report.rejected.append(Rejection(f"{where} ({ext_id})", reason))
            continue
        seen.add(ext_id)
        first_seen, dates = _dates(item, start)
        raw = _raw(item, dates)
        digest = content_hash(raw)
        record = existing.get(ext_id)
        if record is not None and record.removed_at is not None:
            plan.returned.append(record)
        if record is not None and record.content_hash == digest:
            if record.removed_at is not None:
                report.updated.append(Change(ext_id, "back in the set"))
            else:
                report.unchanged.append(ext_id)
            plan.unchanged_ids.append(record.pk)
            continue
        try:
            url = url_canonical(item.url)
        except InvalidInput as exc:
            report.rejected.append(Rejection(f"{where} ({ext_id})", exc.message))
            continue
        planned = PlannedItem(
            item, ext_id, raw, digest, side, model, url, first_seen, record=record
        )
        if record is None:
            plan.create.append(planned)
            report.created.append(ext_id)
        else:
            planned.change = _change(record.raw, raw)
            plan.update.append(planned)
            report.updated.append(Change(ext_id, planned.change))
    _plan_removed(plan, dataset, existing, seen, sides)
    _plan_links(plan)
    return resolved


def _plan_links(plan: CsvPlan) -> None:
    """Mark the new items that join a loss another source recorded with the same evidence."""
    candidates = [
        linking.Candidate(
            key=p.external_id,
            urls=(p.url,),
            side_id=p.side.pk,
            model_id=p.model.pk if isinstance(p.model, EquipmentModel) else None,
            category_id=p.model.category_id if isinstance(p.model, EquipmentModel) else None,
        )
        for p in plan.create
    ]
    links = linking.links_plan(
        candidates, source=SOURCE, conflict=plan.conflict, report=plan.report
    )
    for p in plan.create:
        p.link = links.get(p.external_id)


def _plan_removed(
    plan: CsvPlan,
    dataset: Dataset,
    existing: dict[str, SourceRecord],
    seen: set[str],
    sides: dict[str, Side | str],
) -> None:
    """Find the items of the set's countries that the set no longer lists.

    The set is the whole list of each country it names, when it has all four event files: an
    item of such a country gone from it is marked removed. Countries the set does not name (or
    names no side for), and any set missing an event file, mark nothing.
    """
    if dataset.events_missing:
        if existing:
            plan.report.notes.append(
                "the set lacks " + ", ".join(dataset.events_missing) + ": it is not whole, so "
                "no item is marked removed"
            )
        return
    countries = {country for country, side in sides.items() if isinstance(side, Side)}
    plan.in_scope = sum(
        1
        for r in existing.values()
        if r.removed_at is None and (r.raw or {}).get("country") in countries
    )
    for ext_id, record in sorted(existing.items()):
        if ext_id in seen or record.removed_at is not None:
            continue
        if (record.raw or {}).get("country") in countries:
            plan.removed.append(record)
            plan.report.gone.append(ext_id)


def _checks(
    plan: CsvPlan, dataset: Dataset, sides: dict[str, Side | str], resolved: dict[int, Any]
) -> list[Check]:
    """Return, per side and category, the stated totals beside the items read."""
    stated: dict[tuple[str, str], Counter[str]] = {}
    names: dict[tuple[str, str], list[str]] = {}
    categories: dict[str, Category | None] = {}
    for total in dataset.totals:
        if total.kind == "All Types":
            key = (total.country, "all")
        elif total.kind.startswith("Losses "):
            continue
        else:
            if total.kind not in categories:
                categories[total.kind] = category_mapped(total.kind, plan.claimed_on)
            category = categories[total.kind]
            key = (total.country, category.name if category else f"{total.kind} (unmapped)")
            names.setdefault(key, []).append(total.kind)
        counter = stated.setdefault(key, Counter())
        counter.update({**total.by_fate, "total": total.total})
    parsed: dict[tuple[str, str], list[Item]] = {}
    for index, item in enumerate(dataset.items):
        parsed.setdefault((item.country, "all"), []).append(item)
        category_name = resolved.get(index)
        if category_name is not None:
            parsed.setdefault((item.country, category_name), []).append(item)
    checks = []
    for (country, scope), figures in sorted(stated.items()):
        items = parsed.get((country, scope), [])
        kinds = names.get((country, scope), [])
        checks.append(_check(country, scope, figures, items, kinds))
    unknown = sum(1 for name in resolved.values() if name == UNCLASSIFIED_NAME)
    if plan.new_models:
        plan.report.notes.append(
            f"check: {len(plan.new_models)} model(s) new to the catalog filed under "
            f"{UNCLASSIFIED_NAME} ({unknown} item(s)): assign their categories in the admin "
            "(Equipment models, filter by category); the per-category counts leave them out"
        )
    return checks


def _check(
    country: str, scope: str, figures: Counter[str], items: list[Item], kinds: list[str]
) -> Check:
    by_fate = Counter(item.states[-1].value for item in items)
    relisted = [
        f"{i.model}: {file_name(i.url)} (file dated {i.file_date}, first listed {i.first_seen})"
        for i in items
        if i.file_date is not None and i.first_seen - i.file_date > RELISTED_AFTER
    ]
    several = [f"{i.model}: {file_name(i.url)} (shows {i.several})" for i in items if i.several]
    title = "all types" if scope == "all" else scope
    if kinds and kinds != [scope]:
        title += f" (Oryx: {'; '.join(kinds)})"
    check = Check(
        scope=f"{country} / {title}",
        stated=figures["total"],
        parsed=len(items),
        stated_by_fate={f.value: figures[f.value] for f in Fate},
        parsed_by_fate={f.value: by_fate[f.value] for f in Fate},
        missing=several,
        duplicates=relisted,
        labels=(
            "links whose file name counts several items (one item each here)",
            "links first listed over 30 days after their file's date (re-hosted copies?)",
            "",
        ),
    )
    over, under = max(0, -check.difference), max(0, check.difference)
    check.explained = over <= len(relisted) and under <= sum((i.several or 1) - 1 for i in items)
    return check


# -- applying --------------------------------------------------------------------------------


def _fates(planned: PlannedItem) -> list[dict[str, str]]:
    return [{"fate": s.value, "detail": ""} for s in planned.item.states]


def _captor(planned: PlannedItem, sides: list[Side]) -> Side | None:
    """Return the other side of a two-sided conflict for a captured item (Oryx names none)."""
    if len(sides) != 2 or Fate.CAPTURED not in planned.item.states:
        return None
    return next(s for s in sides if s.pk != planned.side.pk)


def plan_apply(*, plan: CsvPlan, options: ImportOptions, progress: Progress) -> None:
    """Write the plan: claims, losses with evidence and depictions, source records."""
    by = options.by
    reason = f"imported from {plan.report.source}"
    for url, claims in plan.claims.items():
        claims_create(
            claims,
            conflict=plan.conflict,
            claimed_on=plan.claimed_on,
            source_url=url,
            by=by,
            reason=reason,
        )
    if plan.new_models:
        category = unclassified_ensure()
        for pending in plan.new_models.values():
            pending.model = model_create(
                name=pending.name, category=category, by=by, reason="named in the oryx_data set"
            )
    progress.start(len(plan.create) + len(plan.update) + 1)
    evidence = bulk.evidence_ensure([p.url for p in [*plan.create, *plan.update]], by=by, via=VIA)
    progress.advance()
    sides = list(plan.conflict.sides.all())
    new = [
        _item_new(p, plan=plan, evidence=evidence, sides=sides, options=options)
        for p in plan.create
        if p.link is None
    ]
    bulk.losses_write(new, by=by, via=VIA, reason=reason, progress=progress)
    links = [
        bulk.NewLink(loss_id=p.link, evidence=[evidence[p.url]], record=_record(p, evidence))
        for p in plan.create
        if p.link is not None
    ]
    bulk.links_write(links, by=by, via=VIA)
    progress.advance(len(links))
    for planned in plan.update:
        _item_update(planned, evidence=evidence, by=by)
        progress.advance()
    SourceRecord.objects.filter(pk__in=plan.unchanged_ids).update(last_seen_at=timezone.now())
    source = plan.report.source
    for record in plan.returned:
        reason = f"oryx_data item {record.external_id} is back in {source}"
        record_mark(record, removed_at=None, by=by, reason=reason, tag=REMOVED_TAG)
    now = timezone.now()
    for record in plan.removed:
        reason = f"oryx_data item {record.external_id} is no longer in {source}"
        record_mark(record, removed_at=now, by=by, reason=reason, tag=REMOVED_TAG)


def _record_fields(planned: PlannedItem) -> dict[str, Any]:
    return {
        "raw_label": fate_history_text([{"fate": s.value} for s in planned.item.states]),
        "raw_category": "",
        "raw": planned.raw,
        "content_hash": planned.content_hash,
    }


def _model_of(planned: PlannedItem) -> EquipmentModel:
    model = planned.model if isinstance(planned.model, EquipmentModel) else planned.model.model
    assert model is not None, "new models are created before the items"
    return model


def _item_new(
    planned: PlannedItem,
    *,
    plan: CsvPlan,
    evidence: dict[str, Evidence],
    sides: list[Side],
    options: ImportOptions,
) -> bulk.NewLoss:
    """Return the loss, depiction and source record one new item becomes, unsaved."""
    loss = loss_build(
        conflict=plan.conflict,
        side=planned.side,
        model=_model_of(planned),
        fates=_fates(planned),
        by=options.by,
        status=options.status,
        captured_by=_captor(planned, sides),
        first_seen=planned.first_seen,
        first_seen_precision=DatePrecision.DAY,
    )
    return bulk.NewLoss(
        loss=loss, evidence=[evidence[planned.url]], record=_record(planned, evidence)
    )


def _record(planned: PlannedItem, evidence: dict[str, Evidence]) -> SourceRecord:
    return SourceRecord(
        source=SOURCE,
        external_id=planned.external_id,
        evidence=evidence[planned.url],
        **_record_fields(planned),
    )


def _item_update(planned: PlannedItem, *, evidence: dict[str, Evidence], by: Any) -> None:
    record = planned.record
    assert record is not None, "only recorded items are updated"
    if record.loss_id is not None:
        loss = Loss.objects.get(pk=record.loss_id)
        fates = _fates(planned)
        if [e["fate"] for e in loss.fate_history] != [f["fate"] for f in fates] or (
            loss.first_seen != planned.first_seen
        ):
            loss = loss_update(
                loss=loss,
                by=by,
                fates=fates,
                first_seen=planned.first_seen,
                reason=f"the oryx_data set changed: {planned.change}",
                via=VIA,
            )
        if not Depiction.objects.filter(loss=loss, evidence=evidence[planned.url]).exists():
            depiction_create(loss=loss, evidence=evidence[planned.url], by=by, via=VIA)
    for name, value in _record_fields(planned).items():
        setattr(record, name, value)
    record.save(update_fields=[*_record_fields(planned), "last_seen_at"])
