"""Benchmark honest counting: a saved tally's permalink, "as of" counts checked against a replay.

Usage: python bench/counting.py [--losses N] [--repeat K]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Populates like bench/run.py (N losses, 3N versions), then times a saved tally counted on today's
data version (what /counts/ and a permalink do) and as of 200 days ago, and a monthly timeline;
checks every "as of" count against a replay of the version rows in Python, and prints a digest
of the results: the same digest on SQLite and PostgreSQL means identical results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from collections import Counter
from typing import Any

from run import _populate, _setup, _time


def _replay(
    conflict: Any, when: dt.datetime, side_ids: set[int], model_ids: set[int]
) -> Counter[str]:
    """Return counts by fate from the versions valid at `when`, computed in Python."""
    from attrition.losses.models import LossVersion

    found: Counter[str] = Counter()
    rows = LossVersion._default_manager.filter(conflict=conflict).values_list(
        "side_id", "model_id", "fate", "status", "deleted_at", "valid_from", "valid_to"
    )
    for side, model, fate, status, deleted, start, end in rows.iterator(chunk_size=20_000):
        current = start <= when and (end is None or end > when) and deleted is None
        if current and status == "verified" and side in side_ids and model in model_ids:
            found[fate] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    _setup()
    from django.db import connection
    from django.utils import timezone

    from attrition.accounts.models import Role, User
    from attrition.catalog.models import EquipmentModel, Side
    from attrition.counting.selectors import tally_report
    from attrition.counting.services import tally_create
    from attrition.counting.timeline import timeline
    from attrition.losses.tally import TallyRule, tally_count

    print(f"database: {connection.vendor}; python {sys.version.split()[0]}", flush=True)
    t = time.perf_counter()
    big = _populate(args.losses, seed=1)
    print(f"populated {args.losses:,} losses in {time.perf_counter() - t:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    editor = User.objects.create_user(username="bench-reviewer", role=Role.REVIEWER, is_staff=True)
    armour_rule = {
        "sides": ["s0"],
        "categories_in": [f"bench-c{i}" for i in range(6)],
        "fates": ["destroyed", "captured"],
    }
    whole = tally_create(conflict=big, name="Everything", rule={}, by=editor)
    armour = tally_create(conflict=big, name="Armour", rule=armour_rule, by=editor)
    past = timezone.now() - dt.timedelta(days=200)
    n = args.losses
    for tally in (whole, armour):
        _time(
            f"tally report (permalink), {tally.slug}",
            n,
            args.repeat,
            lambda t=tally: tally_report(tally=t),
        )
        _time(
            f"tally report as of 200 days ago, {tally.slug}",
            3 * n,
            args.repeat,
            lambda t=tally: tally_report(tally=t, as_of=past),
        )
    _time("timeline per month, everything", n, 1, lambda: timeline(conflict=big, period="month"))

    digest: dict[str, Any] = {}
    for name, raw in (("everything", {}), ("armour", armour_rule)):
        rule = TallyRule.parse(raw)
        sides = set(Side.objects.filter(conflict=big).values_list("id", flat=True))
        if rule.sides:
            sides = set(
                Side.objects.filter(conflict=big, slug__in=rule.sides).values_list("id", flat=True)
            )
        models = set(EquipmentModel.objects.values_list("id", flat=True))
        if rule.categories_in:
            models = set(
                EquipmentModel.objects.filter(category__slug__in=rule.categories_in).values_list(
                    "id", flat=True
                )
            )
        counted = tally_count(conflict=big, rule=rule, as_of=past).by_fate
        replayed = dict(_replay(big, past, sides, models))
        if rule.fates:
            replayed = {f: c for f, c in replayed.items() if f in rule.fates}
        status = "equal" if counted == replayed else "DIFFERENT"
        print(f"as of 200 days ago, {name}: {sum(counted.values()):,} counted; replay {status}")
        if counted != replayed:
            return 1
        digest[name] = sorted(counted.items())
    text = json.dumps(digest, sort_keys=True).encode()
    print(f"result digest (compare across engines): {hashlib.sha256(text).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
