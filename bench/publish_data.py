"""The publish benchmark's dataset: the reference data's Afghanistan 2021 conflict, its 432 real
districts and provinces, ~300 models, and N generated losses with evidence, captures, custody
records, depictions, versions and tags, written with bulk inserts.

The spread is meant to look like a tracker's: one side loses most, a few models dominate, captured
and destroyed lead, sightings peak in July-August 2021 and thin out over two years, 80% of losses
are placed in a district or province (40% with a point), 88% are verified, 1% merged into
another. Evidence is shared: a post shows one to three losses, a loss appears in one to three
posts; every post has two captures on average (three in four images, one in five videos).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

CONFLICT = "afghanistan-2021"
START = dt.date(2021, 5, 1)
DAYS = 730
BATCH = 10_000
FATES = (("destroyed", 35), ("damaged", 10), ("abandoned", 15), ("captured", 40))
STATUSES = (("verified", 88), ("submitted", 6), ("draft", 4), ("rejected", 2))
PLATFORMS = ("telegram", "x", "youtube", "facebook", "web", "news")
TAGS = ("convoy", "airfield", "border-crossing", "handed-over", "night")


@dataclass
class Dataset:
    """What the generator made, for the benchmark's filters."""

    conflict: Any
    losses: int
    captures: int
    evidence: int
    depictions: int
    versions: int
    side_slugs: list[str]
    category_slugs: list[str]
    model_slugs: list[str]
    province_codes: list[str]


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _day(rng: random.Random) -> dt.date:
    """Return a sighting date: a third in the summer 2021 offensive, the rest spread thinly."""
    if rng.random() < 0.35:
        return dt.date(2021, 7, 1) + dt.timedelta(days=int(rng.triangular(0, 75, 40)))
    return START + dt.timedelta(days=int(rng.expovariate(1 / 180)) % DAYS)


def _catalogue(rng: random.Random) -> tuple[Any, list[Any], list[Any], list[Any], list[Any]]:
    """Load the reference data and add models up to ~300; return conflict, sides, models, units."""
    from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
    from attrition.losses.models import Tag
    from attrition.reference.load import reference_load
    from attrition.territory.models import AdminUnit

    reference_load()
    conflict = Conflict.objects.get(slug=CONFLICT)
    sides = list(Side.objects.filter(conflict=conflict).order_by("order", "id"))
    categories = list(Category.objects.all())
    EquipmentModel.objects.bulk_create(
        EquipmentModel(
            slug=f"bench-model-{i}",
            name=f"Bench model {i}",
            category=rng.choice(categories),
        )
        for i in range(300 - EquipmentModel.objects.count())
    )
    models = list(EquipmentModel.objects.all())
    units = list(
        AdminUnit.objects.filter(boundary_set_id=conflict.boundary_set_id, level__gte=1).only(
            "id", "code", "level", "label_lon", "label_lat"
        )
    )
    for slug in TAGS:
        Tag.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ")})
    return conflict, sides, models, units, list(Tag.objects.filter(slug__in=TAGS))


def _place(rng: random.Random, units: list[Any], weights: list[float]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.2:
        return {"place_precision": "unknown"}
    unit = rng.choices(units, weights=weights)[0]
    place: dict[str, Any] = {
        "admin_unit_id": unit.pk,
        "place_precision": "district" if unit.level == 2 else "province",
    }
    if roll < 0.6 and unit.label_lon is not None:
        place.update(
            lon=round(unit.label_lon + rng.uniform(-0.15, 0.15), 5),
            lat=round(unit.label_lat + rng.uniform(-0.15, 0.15), 5),
            place_precision=rng.choice(["exact", "approximate", "settlement"]),
        )
    return place


def _losses(
    rng: random.Random, n: int, conflict: Any, sides: list[Any], models: list[Any], units: list[Any]
) -> list[Any]:
    from attrition.losses.models import Loss

    model_weights = [1 / (i + 1) for i in range(len(models))]  # a few models dominate
    unit_weights = [rng.paretovariate(1.2) for _ in units]
    rows = []
    for i in range(n):
        fates = [_weighted(rng, FATES)]
        if fates[0] == "captured" and rng.random() < 0.1:
            fates.append("destroyed")
        side = sides[0] if rng.random() < 0.85 else sides[1]
        first_seen = _day(rng) if rng.random() < 0.96 else None
        precision = rng.choices(["day", "month", "year"], weights=[85, 10, 5])[0]
        rows.append(
            Loss(
                conflict=conflict,
                side=side,
                model=rng.choices(models, weights=model_weights)[0],
                fate=fates[-1],
                fate_history=[{"fate": f, "detail": "", "date": None} for f in fates],
                captured_by=(sides[1] if side == sides[0] else sides[0])
                if "captured" in fates
                else None,
                first_seen=first_seen,
                first_seen_precision=precision if first_seen else "day",
                markings=f"{rng.randrange(100, 999)}" if rng.random() < 0.2 else "",
                unit=f"{rng.randrange(201, 217)}th Corps" if rng.random() < 0.1 else "",
                place_text=f"near village {i % 997}" if rng.random() < 0.3 else "",
                status=_weighted(rng, STATUSES),
                **_place(rng, units, unit_weights),
            )
        )
    return rows


def _evidence_and_captures(rng: random.Random, n_evidence: int, n_captures: int) -> list[list[int]]:
    """Insert posts and their captures with custody records; return each post's capture ids."""
    from django.utils import timezone

    from attrition.evidence.models import Capture, CustodyRecord, Evidence

    now = timezone.now()
    evidence = Evidence.objects.bulk_create(
        (
            Evidence(
                canonical_url=f"https://t.me/bench_{i % 211}/{i}",
                platform=rng.choice(PLATFORMS),
                channel=f"bench_{i % 211}",
                title=f"Post {i}",
                posted_at=now - dt.timedelta(minutes=rng.randrange(2 * 365 * 1440)),
                source_status=rng.choices(["unknown", "alive", "gone"], weights=[50, 35, 15])[0],
            )
            for i in range(n_evidence)
        ),
        batch_size=BATCH,
    )
    owners = [
        i % n_evidence if i < n_evidence else rng.randrange(n_evidence) for i in range(n_captures)
    ]
    captures = []
    for i in range(n_captures):
        kind = rng.choices(["image", "video", "page"], weights=[75, 20, 5])[0]
        captures.append(
            Capture(
                sha256=f"{i + 1:064x}",
                kind=kind,
                storage_key=f"bench/{i}",
                mime={"image": "image/jpeg", "video": "video/mp4", "page": "text/html"}[kind],
                size_bytes=rng.randrange(20_000, 20_000_000),
                width=1280,
                height=720,
                duration_s=rng.uniform(3, 120) if kind == "video" else None,
            )
        )
    captures = Capture.objects.bulk_create(captures, batch_size=BATCH)
    by_post: list[list[int]] = [[] for _ in range(n_evidence)]
    custody = []
    for owner, capture in zip(owners, captures, strict=True):
        by_post[owner].append(capture.pk)
        custody.append(
            CustodyRecord(
                evidence_id=evidence[owner].pk,
                capture_id=capture.pk,
                method="http",
                collected_at=now,
                source_url=evidence[owner].canonical_url,
                http_status=200,
            )
        )
    CustodyRecord.objects.bulk_create(custody, batch_size=BATCH)
    return [[evidence[i].pk, *ids] for i, ids in enumerate(by_post)]


def _depictions(rng: random.Random, losses: list[Any], posts: list[list[int]]) -> int:
    """Link each loss to one to three posts (posts shared between neighbouring losses)."""
    from attrition.losses.models import Depiction

    rows = []
    seen: set[tuple[int, int]] = set()
    for i, loss in enumerate(losses):
        for _ in range(rng.choices([1, 2, 3], weights=[55, 30, 15])[0]):
            # Neighbouring losses share posts: one video shows several items.
            post = posts[(i * len(posts) // len(losses) + rng.randrange(3)) % len(posts)]
            if (loss.pk, post[0]) in seen:
                continue
            seen.add((loss.pk, post[0]))
            capture = rng.choice(post[1:]) if len(post) > 1 else None
            rows.append(
                Depiction(
                    loss_id=loss.pk,
                    evidence_id=post[0],
                    capture_id=capture,
                    item_number=rng.randrange(1, 4),
                )
            )
    Depiction.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _versions(rng: random.Random, losses: list[Any]) -> int:
    """Write each loss's versions: created as submitted, then its present status."""
    from django.utils import timezone

    from attrition import history
    from attrition.losses.models import LossVersion

    now = timezone.now()
    rows = []
    for loss in losses:
        values = {f.attname: getattr(loss, f.attname) for f in history.audited_fields(type(loss))}
        # Most were verified long ago; a few each day, so "what changed lately" has content.
        age = rng.uniform(0, 14) if rng.random() < 0.01 else rng.uniform(14, 700)
        t1 = now - dt.timedelta(days=age)
        t0 = t1 - dt.timedelta(days=rng.uniform(0.1, 20))
        for number, (start, end, status) in enumerate(
            [(t0, t1, "submitted"), (t1, None, loss.status)], start=1
        ):
            rows.append(
                LossVersion(
                    **{**values, "status": status, "created_at": t0, "updated_at": start},
                    record_id=loss.pk,
                    version=number,
                    valid_from=start,
                    valid_to=end,
                    change_kind="create" if number == 1 else "status",
                )
            )
    LossVersion.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def dataset_make(n_losses: int, n_captures: int, *, seed: int = 6) -> Dataset:
    """Insert the dataset (see the module's docstring) and return what it holds."""
    from django.db import transaction

    from attrition.losses.models import Loss

    rng = random.Random(seed)
    conflict, sides, models, units, tags = _catalogue(rng)
    n_evidence = max(1, n_captures // 2)
    with transaction.atomic():
        losses: list[Any] = []
        for offset in range(0, n_losses, BATCH):
            rows = _losses(rng, min(BATCH, n_losses - offset), conflict, sides, models, units)
            losses.extend(Loss.objects.bulk_create(rows))
        merged = [x for x in losses if x.status == "rejected"][: n_losses // 100]
        targets = [x for x in losses if x.status == "verified"]
        for loss in merged:
            loss.status, loss.merged_into_id = "merged", rng.choice(targets).pk
        Loss.objects.bulk_update(merged, ["status", "merged_into"], batch_size=BATCH)
        through = Loss.tags.through
        through.objects.bulk_create(
            (
                through(loss_id=x.pk, tag_id=rng.choice(tags).pk)
                for x in losses
                if rng.random() < 0.1
            ),
            batch_size=BATCH,
        )
        posts = _evidence_and_captures(rng, n_evidence, n_captures)
        depictions = _depictions(rng, losses, posts)
        versions = _versions(rng, losses)
    from attrition.catalog.models import Category

    used = set(Loss.objects.values_list("model__category__slug", flat=True).distinct())
    return Dataset(
        conflict=conflict,
        losses=n_losses,
        captures=n_captures,
        evidence=n_evidence,
        depictions=depictions,
        versions=versions,
        side_slugs=[s.slug for s in sides],
        category_slugs=[c.slug for c in Category.objects.filter(slug__in=used)],
        model_slugs=[m.slug for m in models[:20]],
        province_codes=[u.code for u in units if u.level == 1],
    )
