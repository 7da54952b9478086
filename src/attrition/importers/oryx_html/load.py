"""Turn a parsed Oryx page into ledger records: plan it (reads only), then apply it (writes).

One source record per item (page, side, model, last state, number), keyed by a stable external
id and hashed, so that importing the same page again changes nothing and a changed page changes
only the items whose line changed. The page's stated totals become claims by Oryx.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.catalog.services import alias_normalize, model_lookup
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.evidence.services import url_canonical
from attrition.importers import bulk, linking
from attrition.importers.common import (
    VIA,
    PlannedClaim,
    category_mapped,
    claims_create,
    claims_plan,
    conflict_get,
    content_hash,
    model_create,
    side_named,
)
from attrition.importers.models import SourceRecord
from attrition.importers.oryx_html.parse import CategoryCheck, Item, Page, page_items
from attrition.importers.registry import ImportOptions, ImportRefused, Progress
from attrition.importers.removed import record_mark, removals_check
from attrition.importers.report import Change, Check, ImportReport, Rejection
from attrition.losses.choices import Fate
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Depiction, Loss
from attrition.losses.services import depiction_create, loss_build, loss_update

SOURCE = "oryx_html"
DEFAULT_CONFLICT = "russia-ukraine-2022"
MAX_EXTERNAL_ID = 300
# "Documenting Russian Equipment Losses ..." names the side that lost everything on the page.
TITLE_SIDE = re.compile(r"Documenting (?P<side>\w+) Equipment Losses", re.I)
SIDE_ADJECTIVES = {"russian": "russia", "ukrainian": "ukraine"}
# The tag a loss gets while its item is gone from the Oryx page it was imported from.
REMOVED_TAG = "removed from Oryx"


@dataclass
class NewModel:
    """A model the page names that the catalog does not have yet."""

    name: str
    category: Category
    country: str
    model: EquipmentModel | None = None


@dataclass
class PlannedItem:
    """One item of the page and what the import does with it."""

    item: Item
    external_id: str
    raw: dict[str, Any]
    content_hash: str
    side: Side
    model: EquipmentModel | None
    new_model: NewModel | None
    urls: list[str]
    record: SourceRecord | None = None
    change: str = ""
    # The loss of another source this item joins (same evidence), if any.
    link: int | None = None


@dataclass
class OryxPlan:
    """What importing one page writes; `report` says it in words."""

    report: ImportReport
    page: Page
    conflict: Conflict
    page_url: str
    claimed_on: dt.date
    create: list[PlannedItem] = field(default_factory=list)
    update: list[PlannedItem] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    new_models: dict[str, NewModel] = field(default_factory=dict)
    claims: list[PlannedClaim] = field(default_factory=list)
    returned: list[SourceRecord] = field(default_factory=list)
    removed: list[SourceRecord] = field(default_factory=list)
    in_scope: int = 0  # items of the scope the last import held, for the removals guard


# -- planning --------------------------------------------------------------------------------


def _conflict(page: Page, options: ImportOptions) -> Conflict:
    slug = options.conflict
    if slug is None:
        if "invasion of ukraine" not in page.title.lower():
            raise ImportRefused(
                f"the page title ({page.title[:80]!r}) does not say which conflict it is: "
                "give --conflict SLUG"
            )
        slug = DEFAULT_CONFLICT
    return conflict_get(slug, given=options.conflict is not None)


def _sections(page: Page, conflict: Conflict, options: ImportOptions) -> dict[str, Side | str]:
    """Return, per section name, the side that lost its items, or why none could be chosen."""
    sides = list(conflict.sides.all())
    fallback: Side | None = None
    if options.side:
        fallback = side_named(sides, options.side)
        if fallback is None:
            known = ", ".join(s.slug for s in sides)
            raise ImportRefused(f"no side {options.side!r} in {conflict.slug} (known: {known})")
    else:
        match = TITLE_SIDE.search(page.title)
        if match:
            fallback = side_named(sides, SIDE_ADJECTIVES.get(match["side"].lower(), ""))
    found: dict[str, Side | str] = {}
    for section in page.sections:
        side = side_named(sides, section.name) if section.name else None
        if side is None:
            side = fallback
        if side is None:
            what = f"section {section.name!r}" if section.name else "the page"
            found[section.name] = (
                f"{what} names no side of {conflict.slug}: give --side SLUG to import it"
            )
        else:
            found[section.name] = side
    return found


def external_id(page_key: str, item: Item) -> str:
    """Return the stable id of an item: page, side section, model, last state, number."""
    key = f"{page_key}#{item.section}|{item.line.name}|{item.fate}|{item.number}"
    if len(key) <= MAX_EXTERNAL_ID:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{page_key[: MAX_EXTERNAL_ID - 50]}#sha256:{digest}"


def _raw(page_url: str, item: Item) -> dict[str, Any]:
    return {
        "page": page_url,
        "section": item.section,
        "category": item.category,
        "model": item.line.name,
        "flag": item.line.flag,
        "country": item.line.country,
        "fate": item.fate,
        "number": item.number,
        "states": [{"fate": s.fate.value, "detail": s.detail} for s in item.label.states],
        "note": item.label.note,
        "links": [{"url": link.url, "label": link.text} for link in item.links],
    }


def _change(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if old.get("states") != new["states"]:
        parts.append(
            f"fates {fate_history_text(old.get('states') or [])!r} -> "
            f"{fate_history_text(new['states'])!r}"
        )
    added = {x["url"] for x in new["links"]} - {x["url"] for x in old.get("links") or []}
    if added:
        parts.append(f"{len(added)} new evidence link(s)")
    if old.get("note") != new["note"]:
        parts.append(f"note {old.get('note')!r} -> {new['note']!r}")
    return "; ".join(parts) or "label or link text changed"


def _check(check: CategoryCheck) -> Check:
    scope = f"{check.section} / {check.category}" if check.section else check.category
    return Check(
        scope=scope,
        stated=check.stated,
        parsed=check.parsed,
        stated_by_fate=check.stated_by_fate,
        parsed_by_fate=check.parsed_by_fate,
        missing=[g.text() for g in check.missing],
        duplicates=[f"{g.text()} ({g.links} links)" for g in check.duplicates],
        miscounted=[f"{c.model} states {c.stated}, lists {c.parsed}" for c in check.line_counts]
        + (
            [f"the heading states {check.stated}, its model lines {check.lines_stated}"]
            if check.lines_stated != check.stated
            else []
        ),
        explained=check.explained,
    )


def _page_key(page: Page) -> str:
    if page.url:
        return re.sub(r"^https?://", "", page.url)
    return f"file:{page.source_name}"


class _Models:
    """Resolves model names to catalog models, planning the ones to create."""

    def __init__(self, plan: OryxPlan) -> None:
        self.plan = plan
        self.found: dict[str, EquipmentModel | NewModel | str] = {}
        self.categories: dict[str, Category | None] = {}

    def get(self, item: Item) -> EquipmentModel | NewModel | str:
        key = alias_normalize(item.line.name)
        if key not in self.found:
            self.found[key] = self._resolve(item, key)
        return self.found[key]

    def _resolve(self, item: Item, key: str) -> EquipmentModel | NewModel | str:
        if not key:
            return f"model name {item.line.name!r} has no letters or digits"
        model = model_lookup(name=item.line.name)
        if model is not None:
            return model
        if item.category not in self.categories:
            self.categories[item.category] = category_mapped(item.category, self.plan.claimed_on)
        category = self.categories[item.category]
        if category is None:
            return (
                f"new model, and no category mapping for the Oryx heading {item.category!r} "
                f"on {self.plan.claimed_on}: add one (source oryx) in the admin"
            )
        new = NewModel(name=item.line.name[:200], category=category, country=item.line.country)
        self.plan.new_models[key] = new
        self.plan.report.models_created.append(
            f"{new.name} ({category.name}{', ' + new.country if new.country else ''})"
        )
        return new


def _evidence_urls(item: Item, report: ImportReport, ext_id: str) -> list[str]:
    urls: list[str] = []
    for link in item.links:
        try:
            canonical = url_canonical(link.url)
        except InvalidInput as exc:
            report.rejected.append(Rejection(f"{ext_id}: link {link.text!r}", exc.message))
            continue
        if canonical not in urls:
            urls.append(canonical)
    return urls


def plan_make(*, page: Page, options: ImportOptions) -> OryxPlan:
    """Return what importing `page` would create, update and leave, without writing anything."""
    conflict = _conflict(page, options)
    claimed_on = page.modified.date() if page.modified else timezone.now().date()
    report = ImportReport(importer=SOURCE, source=page.url or page.source_name)
    if page.modified is None:
        report.notes.append("the page has no dateModified: its claims are dated today")
    plan = OryxPlan(
        report=report, page=page, conflict=conflict, page_url=page.url, claimed_on=claimed_on
    )
    sides = _sections(page, conflict, options)
    items, checks = page_items(page)
    report.checks = [_check(c) for c in checks]
    report.notes += [f"skipped {what}" for what in page.skipped]
    for section in page.sections:
        side = sides[section.name]
        if isinstance(side, Side) and section.totals:
            fates = sum(section.totals.by_fate.values())
            listed = sum(c.totals.total for c in section.categories)
            if listed != section.totals.total:
                report.notes.append(
                    f"{section.name}: the total heading states {section.totals.total}, "
                    f"its category headings {listed} (fates {fates})"
                )
    _plan_claims(plan, sides)
    _plan_items(plan, items, sides, options)
    removals_check(
        removed=len(plan.removed), in_scope=plan.in_scope, options=options, source=report.source
    )
    return plan


def _plan_claims(plan: OryxPlan, sides: dict[str, Side | str]) -> None:
    page_scope = plan.page.title.removesuffix(" - Oryx").strip() or plan.report.source
    for section in plan.page.sections:
        side = sides[section.name]
        if not isinstance(side, Side):
            continue
        if section.totals is not None:
            plan.claims.append(
                PlannedClaim(
                    side=side,
                    scope=f"{side.short_name}: all losses listed on {page_scope}"[:500],
                    number=section.totals.total,
                    rule={"sides": [side.slug]},
                    quote=section.totals.text,
                )
            )
        for block in section.categories:
            category = category_mapped(block.name, plan.claimed_on)
            rule: dict[str, Any] = {"sides": [side.slug]}
            if category is not None:
                rule["categories_in"] = [category.slug]
            plan.claims.append(
                PlannedClaim(
                    side=side,
                    scope=f"{side.short_name}: {block.name}",
                    number=block.totals.total,
                    rule=rule,
                    quote=block.totals.text,
                )
            )
    plan.claims = claims_plan(
        plan.claims,
        report=plan.report,
        conflict=plan.conflict,
        claimed_on=plan.claimed_on,
        source_url=plan.page_url,
    )


def _plan_items(
    plan: OryxPlan, items: list[Item], sides: dict[str, Side | str], options: ImportOptions
) -> None:
    report = plan.report
    page_key = _page_key(plan.page)
    existing = {
        r.external_id: r
        for r in SourceRecord.objects.filter(
            source=SOURCE, external_id__startswith=f"{page_key}#"
        ).only("id", "external_id", "content_hash", "raw", "loss_id", "removed_at")
    }
    models = _Models(plan)
    seen: set[str] = set()
    for item in items:
        ext_id = external_id(page_key, item)
        side = sides[item.section]
        if not isinstance(side, Side):
            report.rejected.append(Rejection(ext_id, side))
            continue
        if ext_id in seen:
            report.rejected.append(
                Rejection(ext_id, "the same model, state and number appear on two lines")
            )
            continue
        seen.add(ext_id)
        raw = _raw(plan.page_url, item)
        digest = content_hash(raw)
        record = existing.get(ext_id)
        if record is not None and record.removed_at is not None:
            plan.returned.append(record)
        if record is not None and record.content_hash == digest:
            if record.removed_at is not None:
                report.updated.append(Change(ext_id, "back on the page"))
            else:
                report.unchanged.append(ext_id)
            plan.unchanged_ids.append(record.pk)
            continue
        model = models.get(item)
        if isinstance(model, str):
            report.rejected.append(Rejection(ext_id, model))
            continue
        urls = _evidence_urls(item, report, ext_id)
        if not urls:
            report.rejected.append(Rejection(ext_id, "no usable evidence link"))
            continue
        planned = PlannedItem(
            item=item,
            external_id=ext_id,
            raw=raw,
            content_hash=digest,
            side=side,
            model=model if isinstance(model, EquipmentModel) else None,
            new_model=model if isinstance(model, NewModel) else None,
            urls=urls,
            record=record,
        )
        if record is None:
            plan.create.append(planned)
            report.created.append(ext_id)
        else:
            planned.change = _change(record.raw, raw)
            plan.update.append(planned)
            report.updated.append(Change(ext_id, planned.change))
    _plan_removed(plan, existing, seen, sides)
    _plan_links(plan)


def _plan_links(plan: OryxPlan) -> None:
    """Mark the new items that join a loss another source recorded with the same evidence."""
    candidates = []
    for p in plan.create:
        category = (
            p.model.category_id if p.model else p.new_model.category.pk if p.new_model else None
        )
        candidates.append(
            linking.Candidate(
                key=p.external_id,
                urls=tuple(p.urls),
                side_id=p.side.pk,
                model_id=p.model.pk if p.model else None,
                category_id=category,
                number=p.item.number,
            )
        )
    links = linking.links_plan(
        candidates, source=SOURCE, conflict=plan.conflict, report=plan.report
    )
    for p in plan.create:
        p.link = links.get(p.external_id)


def _plan_removed(
    plan: OryxPlan,
    existing: dict[str, SourceRecord],
    seen: set[str],
    sides: dict[str, Side | str],
) -> None:
    """Find the items of this page's imported sections that the page no longer lists.

    The page is the whole list of its sections: an item of a section the page still has (and
    whose side was found) that is gone from it is marked removed. Items of other pages, and of
    sections this import could not read, are left alone.
    """
    sections = {name for name, side in sides.items() if isinstance(side, Side)}
    plan.in_scope = sum(
        1
        for r in existing.values()
        if r.removed_at is None and (r.raw or {}).get("section", "") in sections
    )
    for ext_id, record in sorted(existing.items()):
        if ext_id in seen or record.removed_at is not None:
            continue
        if (record.raw or {}).get("section", "") in sections:
            plan.removed.append(record)
            plan.report.gone.append(ext_id)


# -- applying --------------------------------------------------------------------------------


def _model_create(new: NewModel, *, by: Any) -> EquipmentModel:
    return model_create(
        name=new.name,
        category=new.category,
        country=new.country,
        by=by,
        reason="named on an Oryx page",
    )


def _fates(planned: PlannedItem) -> list[dict[str, str]]:
    return [{"fate": s.fate.value, "detail": s.detail} for s in planned.item.label.states]


def _captor(planned: PlannedItem, sides: list[Side]) -> Side | None:
    """Return the other side of a two-sided conflict for a captured item (Oryx lists no captor)."""
    if len(sides) != 2 or Fate.CAPTURED not in {s.fate for s in planned.item.label.states}:
        return None
    return next(s for s in sides if s.pk != planned.side.pk)


def plan_apply(*, plan: OryxPlan, options: ImportOptions, progress: Progress) -> None:
    """Write the plan: models, claims, losses with evidence and depictions, source records."""
    by = options.by
    reason = f"imported from {plan.report.source}"
    for new in plan.new_models.values():
        new.model = _model_create(new, by=by)
    claims_create(
        plan.claims,
        conflict=plan.conflict,
        claimed_on=plan.claimed_on,
        source_url=plan.page_url,
        by=by,
        reason=reason,
    )
    urls = sorted({u for p in [*plan.create, *plan.update] for u in p.urls})
    progress.start(len(plan.create) + len(plan.update) + 1)
    evidence = bulk.evidence_ensure(urls, by=by, via=VIA)
    progress.advance()
    sides = list(plan.conflict.sides.all())
    new_losses = [
        _item_new(planned, plan=plan, evidence=evidence, sides=sides, options=options)
        for planned in plan.create
        if planned.link is None
    ]
    bulk.losses_write(new_losses, by=by, via=VIA, reason=reason, progress=progress)
    links = [_item_link(planned, evidence=evidence) for planned in plan.create if planned.link]
    bulk.links_write(links, by=by, via=VIA)
    progress.advance(len(links))
    for planned in plan.update:
        _item_update(planned, evidence=evidence, by=by)
        progress.advance()
    SourceRecord.objects.filter(pk__in=plan.unchanged_ids).update(last_seen_at=timezone.now())
    page = plan.page_url or plan.report.source
    for record in plan.returned:
        reason = f"Oryx item {record.external_id} is back on {page}"
        record_mark(record, removed_at=None, by=by, reason=reason, tag=REMOVED_TAG)
    now = timezone.now()
    for record in plan.removed:
        reason = f"Oryx item {record.external_id} is no longer listed on {page}"
        record_mark(record, removed_at=now, by=by, reason=reason, tag=REMOVED_TAG)


def _record(planned: PlannedItem, evidence: dict[str, Evidence]) -> SourceRecord:
    return SourceRecord(
        source=SOURCE,
        external_id=planned.external_id,
        raw_label=" ".join(link.text for link in planned.item.links),
        raw_category=planned.item.category,
        raw=planned.raw,
        evidence=evidence[planned.urls[0]],
        content_hash=planned.content_hash,
    )


def _item_link(planned: PlannedItem, *, evidence: dict[str, Evidence]) -> bulk.NewLink:
    """Return the source record (and evidence) of an item that joins another source's loss."""
    assert planned.link is not None, "only linked items"
    return bulk.NewLink(
        loss_id=planned.link,
        evidence=[evidence[url] for url in planned.urls],
        record=_record(planned, evidence),
        item_number=planned.item.number,
    )


def _item_new(
    planned: PlannedItem,
    *,
    plan: OryxPlan,
    evidence: dict[str, Evidence],
    sides: list[Side],
    options: ImportOptions,
) -> bulk.NewLoss:
    """Return the loss, depictions and source record one new item becomes, unsaved."""
    model = planned.model or (planned.new_model.model if planned.new_model else None)
    assert model is not None, "new models are created before the items"
    loss = loss_build(
        conflict=plan.conflict,
        side=planned.side,
        model=model,
        fates=_fates(planned),
        by=options.by,
        status=options.status,
        captured_by=_captor(planned, sides),
        description=planned.item.label.note,
    )
    return bulk.NewLoss(
        loss=loss,
        evidence=[evidence[url] for url in planned.urls],
        record=_record(planned, evidence),
        item_number=planned.item.number,
    )


def _item_update(planned: PlannedItem, *, evidence: dict[str, Evidence], by: Any) -> None:
    record = planned.record
    assert record is not None, "only recorded items are updated"
    if record.loss_id is not None:
        loss = Loss.objects.get(pk=record.loss_id)
        fates = _fates(planned)
        if [(e["fate"], e["detail"]) for e in loss.fate_history] != [
            (f["fate"], f["detail"]) for f in fates
        ] or loss.description != planned.item.label.note:
            loss = loss_update(
                loss=loss,
                by=by,
                fates=fates,
                description=planned.item.label.note,
                reason=f"the Oryx page changed: {planned.change}",
                via=VIA,
            )
        shown = set(
            Depiction.objects.filter(loss=loss).values_list("evidence__canonical_url", flat=True)
        )
        for url in planned.urls:
            if url not in shown:
                depiction_create(
                    loss=loss,
                    evidence=evidence[url],
                    item_number=planned.item.number,
                    by=by,
                    via=VIA,
                )
    record.raw = planned.raw
    record.raw_label = " ".join(link.text for link in planned.item.links)
    record.content_hash = planned.content_hash
    record.save(update_fields=["raw", "raw_label", "content_hash", "last_seen_at"])
