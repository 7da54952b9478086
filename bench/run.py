"""Benchmark the ledger's counting: tallies now and "as of" a past moment, and the conflict page.

Usage: python bench/run.py [--losses N] [--page-losses N] [--repeat K]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Prints one line per measurement: name, rows, median and worst of K runs in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from instance import instance_setup


def _setup() -> None:
    instance_setup()


def _catalog(seed: int) -> tuple[Any, list[Any], list[Any]]:
    """Return a bench conflict of its own with two sides, and 300 models in 12 categories."""
    from attrition.catalog.models import Category, Conflict, EquipmentModel, Side

    conflict = Conflict.objects.create(slug=f"bench-{seed}", name=f"Bench war {seed}")
    sides = [
        Side.objects.create(conflict=conflict, slug=f"s{i}", name=f"Side {i}", short_name=f"S{i}")
        for i in range(2)
    ]
    categories = [
        Category.objects.get_or_create(slug=f"bench-c{i}", defaults={"name": f"Bench cat {i}"})[0]
        for i in range(12)
    ]
    models = [
        EquipmentModel.objects.get_or_create(
            slug=f"bench-m{i}",
            defaults={"name": f"Bench model {i}", "category": categories[i % 12]},
        )[0]
        for i in range(300)
    ]
    return conflict, sides, models


def _populate(n: int, *, seed: int = 1) -> Any:
    """Insert n losses with three versions each (created, edited, verified), in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from attrition.losses.models import Loss, LossVersion

    rng = random.Random(seed)
    conflict, sides, models = _catalog(seed)
    fates = ["destroyed", "damaged", "abandoned", "captured"]
    start = timezone.now() - dt.timedelta(days=400)
    batch = 20_000
    with transaction.atomic():
        for offset in range(0, n, batch):
            rows = []
            for _ in range(min(batch, n - offset)):
                fate = rng.choice(fates)
                rows.append(
                    Loss(
                        conflict=conflict,
                        side=rng.choice(sides),
                        model=rng.choice(models),
                        fate=fate,
                        fate_history=[{"fate": fate, "detail": "", "date": None}],
                        first_seen=dt.date(2022, 2, 24) + dt.timedelta(days=rng.randrange(900)),
                        status=rng.choice(["verified"] * 8 + ["submitted", "draft"]),
                    )
                )
            created = Loss.objects.bulk_create(rows)
            versions = []
            for loss in created:
                t0 = start + dt.timedelta(seconds=rng.randrange(300 * 86400))
                t1 = t0 + dt.timedelta(days=rng.randrange(1, 30))
                t2 = t1 + dt.timedelta(days=rng.randrange(1, 30))
                stamps = [(t0, t1, "draft"), (t1, t2, "submitted"), (t2, None, loss.status)]
                for number, (frm, to, status) in enumerate(stamps, start=1):
                    versions.append(
                        LossVersion(
                            record_id=loss.pk,
                            version=number,
                            valid_from=frm,
                            valid_to=to,
                            change_kind="create" if number == 1 else "update",
                            conflict_id=loss.conflict_id,
                            side_id=loss.side_id,
                            model_id=loss.model_id,
                            fate=loss.fate,
                            fate_history=loss.fate_history,
                            first_seen=loss.first_seen,
                            first_seen_precision="day",
                            place_precision="unknown",
                            status=status,
                            revision=number,
                            is_sample=False,
                            created_at=frm,
                            updated_at=frm,
                        )
                    )
            LossVersion.objects.bulk_create(versions, batch_size=5000)
    return conflict


def _time(name: str, rows: int, repeat: int, fn: Callable[[], object]) -> None:
    fn()  # warm the caches once
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    print(
        f"{name:<44} rows={rows:>9,}  median={statistics.median(samples):8.1f} ms  "
        f"worst={max(samples):8.1f} ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", type=int, default=200_000)
    parser.add_argument("--page-losses", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    _setup()
    from django.db import connection
    from django.utils import timezone

    from attrition.losses.selectors import conflict_ledger
    from attrition.losses.tally import TallyRule, tally_count

    print(f"database: {connection.vendor}; python {sys.version.split()[0]}", flush=True)
    t = time.perf_counter()
    big = _populate(args.losses, seed=1)
    print(
        f"populated {args.losses:,} losses + {3 * args.losses:,} versions "
        f"in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    with connection.cursor() as cursor:
        # As autovacuum would by now: statistics, and (PostgreSQL) the visibility map that lets
        # the covering index answer without reading the table.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    n = args.losses
    armour = TallyRule(
        sides=["s0"],
        categories_in=[f"bench-c{i}" for i in range(6)],
        fates=["destroyed", "captured"],
    )
    past = timezone.now() - dt.timedelta(days=200)
    _time("tally, all verified", n, args.repeat, lambda: tally_count(conflict=big))
    _time(
        "tally, side+6 categories+2 fates",
        n,
        args.repeat,
        lambda: tally_count(conflict=big, rule=armour),
    )
    _time(
        "tally as of 200 days ago, all verified",
        3 * n,
        args.repeat,
        lambda: tally_count(conflict=big, as_of=past),
    )
    _time(
        "tally as of 200 days ago, side+cats+fates",
        3 * n,
        args.repeat,
        lambda: tally_count(conflict=big, rule=armour, as_of=past),
    )
    page = _populate(args.page_losses, seed=2)
    _time(
        "conflict ledger page data",
        args.page_losses,
        args.repeat,
        lambda: conflict_ledger(conflict=page),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
