"""Benchmark territorial control: every district's status on a date, and the map payload.

Usage: python bench/territory.py [--records N] [--repeat K]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Loads the shipped Afghanistan boundary set (398 districts), inserts N control records spread over
the districts and the 2021 offensive (80% verified), then prints one line per measurement: name,
median and worst of K runs in milliseconds. Targets: status on a date < 50 ms; the map payload
(GeoJSON of every district with its status) < 100 ms and < 300 KB gzipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from instance import instance_setup


def _populate(n: int, *, seed: int = 1) -> Any:
    """Insert n control records over the conflict's districts, in bulk; return the conflict."""
    from django.db import transaction

    from attrition.catalog.models import Conflict
    from attrition.territory.models import AdminUnit, ControlRecord

    rng = random.Random(seed)
    conflict = Conflict.objects.get(slug="afghanistan-2021")
    units = list(
        AdminUnit.objects.filter(boundary_set=conflict.boundary_set, level=2).values_list(
            "pk", flat=True
        )
    )
    sides = list(conflict.sides.values_list("pk", flat=True))
    statuses = ["government", "contested", "insurgent", "claimed"]
    start = dt.date(2021, 5, 1)
    with transaction.atomic():
        for offset in range(0, n, 20_000):
            rows = []
            for _ in range(min(20_000, n - offset)):
                since = start + dt.timedelta(days=rng.randrange(123))
                rows.append(
                    ControlRecord(
                        conflict=conflict,
                        unit_id=rng.choice(units),
                        status=rng.choice(statuses),
                        controlling_side_id=rng.choice(sides),
                        since=since,
                        last_confirmed=since + dt.timedelta(days=rng.randrange(20)),
                        review_status=rng.choice(["verified"] * 8 + ["submitted", "draft"]),
                    )
                )
            ControlRecord.objects.bulk_create(rows)
    return conflict


def _time(name: str, repeat: int, fn: Callable[[], object]) -> float:
    fn()  # warm the caches once
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    median = statistics.median(samples)
    print(f"{name:<44} median={median:8.1f} ms  worst={max(samples):8.1f} ms", flush=True)
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    instance_setup()
    from django.db import connection

    from attrition.reference.load import reference_load
    from attrition.territory.geo import control_geojson, map_features
    from attrition.territory.selectors import (
        border_shares,
        district_change,
        district_counts,
        province_rollup,
        status_on,
    )

    reference_load()
    print(f"database: {connection.vendor}; python {sys.version.split()[0]}", flush=True)
    t = time.perf_counter()
    conflict = _populate(args.records)
    print(f"populated {args.records:,} control records in {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    on = dt.date(2021, 7, 15)
    t = time.perf_counter()
    map_features(conflict.boundary_set_id)
    print(
        f"{'map outlines, first request (simplify)':<44} {1000 * (time.perf_counter() - t):8.1f} ms"
    )

    def payload() -> bytes:
        body = json.dumps(control_geojson(conflict, on), separators=(",", ":")).encode()
        return gzip.compress(body, compresslevel=6)

    status_ms = _time(
        "status of 398 districts on a date", args.repeat, lambda: status_on(conflict, on)
    )
    _time("district counts on a date", args.repeat, lambda: district_counts(conflict, on))
    _time(
        "change over 30 days (with every change)",
        args.repeat,
        lambda: district_change(conflict, on - dt.timedelta(days=30), on),
    )
    _time("province roll-ups", args.repeat, lambda: province_rollup(conflict, on))
    _time("border shares", args.repeat, lambda: border_shares(conflict, on))
    payload_ms = _time("map payload: GeoJSON + gzip", args.repeat, payload)
    raw = json.dumps(control_geojson(conflict, on), separators=(",", ":")).encode()
    packed = payload()
    print(f"map payload size: {len(raw) / 1000:.0f} kB, {len(packed) / 1000:.0f} kB gzipped")
    ok = status_ms < 50 and payload_ms < 100 and len(packed) < 300_000
    print("targets met" if ok else "TARGETS MISSED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
