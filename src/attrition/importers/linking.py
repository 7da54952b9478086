"""Cross-source linking: an item citing the evidence of another source's loss joins that loss.

The key is the evidence's canonical URL (`evidence.services.url_canonical`). A new item of an
import is linked to an existing loss when a loss of the same conflict recorded by another source
(it has a source record of another importer and none of this one) is depicted by the same
evidence, and both are *compatible*: the same side that lost it, and the same model or, failing
that, models of the same category (a model filed under Unclassified is compatible with any).
Links are one to one: when several items share a URL (an Oryx link with "1, 2 and 3" is three
items), they are linked only if as many losses of other sources cite it, each pair compatible;
otherwise nothing is linked and the report says why. Importing again finds the source record
and changes nothing, in either order of the sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from attrition.catalog.models import Category, Conflict, EquipmentModel
from attrition.importers.common import UNCLASSIFIED
from attrition.importers.models import SourceRecord
from attrition.importers.report import ImportReport
from attrition.losses.models import Depiction

CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    """A new item of an import: its id, its evidence (canonical URLs), what it is."""

    key: str
    urls: tuple[str, ...]
    side_id: int
    model_id: int | None
    category_id: int | None
    number: int | None = None
    reported: str = ""  # how the report's `created` names it, when not by its key


@dataclass
class _Loss:
    pk: int
    side_id: int
    model_id: int
    category_id: int
    sources: set[str]


def links_plan(
    candidates: Sequence[Candidate], *, source: str, conflict: Conflict, report: ImportReport
) -> dict[str, int]:
    """Return the loss each linkable candidate joins, by key; report links and conflicts.

    The linked candidates move in the report from `created` to `linked`.
    """
    by_url: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        for url in candidate.urls:
            by_url.setdefault(url, []).append(candidate)
    cited = _losses_citing(sorted(by_url), conflict=conflict, source=source)
    if not cited:
        return {}
    sides = dict(conflict.sides.values_list("pk", "name"))
    categories = dict(Category.objects.values_list("pk", "name"))
    unclassified = Category.objects.filter(slug=UNCLASSIFIED).values_list("pk", flat=True).first()
    linked: dict[str, int] = {}
    taken: set[int] = set()
    for url in sorted(cited):
        news = [c for c in by_url[url] if c.key not in linked]
        olds = [loss for loss in cited[url] if loss.pk not in taken]
        if not news or not olds:
            continue
        if len(news) != len(olds):
            ids = ", ".join(f"#{loss.pk}" for loss in olds)
            for c in news:
                report.link_conflicts.append(
                    f"{c.key}: {len(news)} item(s) here and {len(olds)} loss(es) of other "
                    f"sources ({ids}) cite {url}: not linked (the counts differ)"
                )
            continue
        pairs = _pairs(news, olds, unclassified)
        if pairs is None:
            for c in news:
                why = _why(c, olds, unclassified, sides, categories)
                report.link_conflicts.append(f"{c.key}: cites {url} like {why}: not linked")
            continue
        for c, loss in pairs:
            linked[c.key] = loss.pk
            taken.add(loss.pk)
            report.linked.append(
                f"{c.key}: linked to loss #{loss.pk} from {', '.join(sorted(loss.sources))}"
            )
    # A linked item creates no loss: it leaves the report's `created` for its `linked`.
    joined = {c.reported or c.key for c in candidates if c.key in linked}
    report.created = [x for x in report.created if x not in joined]
    return linked


def _losses_citing(urls: list[str], *, conflict: Conflict, source: str) -> dict[str, list[_Loss]]:
    """Return, per URL, the losses of other sources its evidence depicts (none of `source`)."""
    rows: list[tuple[str | None, int, int, int, int]] = []
    for start in range(0, len(urls), CHUNK):
        rows += Depiction.objects.filter(
            evidence__canonical_url__in=urls[start : start + CHUNK],
            deleted_at__isnull=True,
            loss__conflict=conflict,
            loss__deleted_at__isnull=True,
        ).values_list(
            "evidence__canonical_url",
            "loss_id",
            "loss__side_id",
            "loss__model_id",
            "loss__model__category_id",
        )
    if not rows:
        return {}
    sources: dict[int, set[str]] = {}
    ids = sorted({row[1] for row in rows})
    for start in range(0, len(ids), CHUNK):
        for loss_id, name in SourceRecord.objects.filter(
            loss_id__in=ids[start : start + CHUNK]
        ).values_list("loss_id", "source"):
            sources.setdefault(loss_id, set()).add(name)
    found: dict[str, list[_Loss]] = {}
    ordered = sorted(set(rows), key=lambda r: (r[0] or "", r[1]))
    for url, loss_id, side_id, model_id, category_id in ordered:
        named = sources.get(loss_id, set())
        if url and named and source not in named:
            found.setdefault(url, []).append(_Loss(loss_id, side_id, model_id, category_id, named))
    return found


def _compatible(c: Candidate, loss: _Loss, unclassified: int | None) -> bool:
    if c.side_id != loss.side_id:
        return False
    if c.model_id is not None and c.model_id == loss.model_id:
        return True
    unknown = {None, unclassified}
    return (
        c.category_id in unknown
        or loss.category_id in unknown
        or (c.category_id == loss.category_id)
    )


def _pairs(
    news: list[Candidate], olds: list[_Loss], unclassified: int | None
) -> list[tuple[Candidate, _Loss]] | None:
    """Return each new item paired with a compatible loss (same model first), or None."""
    ordered = sorted(news, key=lambda c: (c.number or 0, c.key))
    free = sorted(olds, key=lambda loss: loss.pk)
    pairs = []
    for c in ordered:
        same = [loss for loss in free if loss.model_id == c.model_id and c.side_id == loss.side_id]
        fits = same or [loss for loss in free if _compatible(c, loss, unclassified)]
        if not fits:
            return None
        pairs.append((c, fits[0]))
        free.remove(fits[0])
    return pairs


def _why(
    c: Candidate,
    olds: list[_Loss],
    unclassified: int | None,
    sides: dict[int, str],
    categories: dict[int, str],
) -> str:
    """Return which loss the item disagrees with, and in what."""
    loss = next((x for x in olds if not _compatible(c, x, unclassified)), olds[0])
    side, category = sides, categories
    if c.side_id != loss.side_id:
        what = f"side {side.get(c.side_id)!r} here, {side.get(loss.side_id)!r} there"
    else:
        model = EquipmentModel.objects.filter(pk=loss.model_id).values_list("name", flat=True)
        what = (
            f"category {category.get(c.category_id or 0)!r} here, "
            f"{category.get(loss.category_id)!r} there ({model.first()})"
        )
    return f"loss #{loss.pk} from {', '.join(sorted(loss.sources))}, but {what}"
