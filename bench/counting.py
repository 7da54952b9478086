"""Benchmark honest counting: a saved tally's permalink, "as of" counts checked against a replay.

Usage: python bench/counting.py [--losses N] [--repeat K]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Populates like bench/run.py (N losses, 3N versions), then times a saved tally counted on today's
data version (what /counts/ and a permalink do) and as of 200 days before the latest change,
and timelines (grouped in SQL) now and as of then; checks every "as of" count against a replay
of the version rows in Python, and prints a digest of the counts and timelines: the same digest
on SQLite and PostgreSQL means identical results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import time
from collections import Counter
from typing import Any

from run import _catalog, _setup, _time


def _populate_fast(n: int, *, seed: int = 1) -> Any:
    """Insert what run.py's _populate does (n losses, three versions each), by raw batch inserts.

    The ORM's bulk_create spends most of its time building model objects: at 1M losses that is
    a quarter of an hour. Rows are built as tuples instead and written with executemany
    (SQLite) or COPY (PostgreSQL), from the same seeded generator on both engines.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from attrition.losses.models import Loss, LossVersion

    rng = random.Random(seed)
    conflict, sides, models = _catalog(seed)
    side_ids, model_ids = [x.pk for x in sides], [x.pk for x in models]
    fates = ["destroyed", "damaged", "abandoned", "captured"]
    statuses = ["verified"] * 8 + ["submitted", "draft"]
    start = timezone.now() - dt.timedelta(days=400)
    sqlite = connection.vendor == "sqlite"

    if sqlite:
        # As Django's SQLite backend writes datetimes: naive UTC text (adapt_datetimefield_value).
        start = timezone.make_naive(start, dt.UTC)

    def when(moment: dt.datetime | None) -> Any:
        return str(moment) if sqlite and moment is not None else moment

    loss_varying = ["id", "conflict_id", "side_id", "model_id", "fate", "fate_history"]
    loss_varying += ["first_seen", "status", "created_at", "updated_at"]
    version_varying = ["record_id", "version", "valid_from", "valid_to", "change_kind"]
    version_varying += [*loss_varying[1:], "revision"]
    loss_table = _Table(Loss, loss_varying, sqlite)
    version_table = _Table(LossVersion, version_varying, sqlite)
    first_id = (Loss.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    batch = 20_000
    # Loading into indexed tables updates every index at random places for every row (on SQLite
    # that rewrote ~100 GB of WAL for 1M losses); building them after the load sorts once.
    indexes = _indexes_dropped([Loss._meta.db_table, LossVersion._meta.db_table])
    with transaction.atomic():
        for offset in range(0, n, batch):
            losses, versions = [], []
            for pk in range(first_id + offset, first_id + min(n, offset + batch)):
                fate = rng.choice(fates)
                history = json.dumps([{"fate": fate, "detail": "", "date": None}])
                side, model = rng.choice(side_ids), rng.choice(model_ids)
                first_seen = dt.date(2022, 2, 24) + dt.timedelta(days=rng.randrange(900))
                status = rng.choice(statuses)
                day = first_seen.isoformat() if sqlite else first_seen
                t0 = start + dt.timedelta(seconds=rng.randrange(300 * 86400))
                t1 = t0 + dt.timedelta(days=rng.randrange(1, 30))
                t2 = t1 + dt.timedelta(days=rng.randrange(1, 30))
                common = (conflict.pk, side, model, fate, history, day)
                losses.append((pk, *common, status, when(t0), when(t2)))
                stamps = [(t0, t1, "draft"), (t1, t2, "submitted"), (t2, None, status)]
                for number, (frm, to, then) in enumerate(stamps, start=1):
                    kind = "create" if number == 1 else "update"
                    row = (pk, number, when(frm), when(to), kind, *common, then)
                    versions.append((*row, when(frm), when(frm), number))
            loss_table.insert(connection, losses)
            version_table.insert(connection, versions)
    # After the commit: PostgreSQL refuses to index a table with deferred foreign-key checks due.
    with connection.cursor() as cursor:
        for sql in indexes:
            cursor.execute(sql)
        if not sqlite:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('losses_loss', 'id'), "
                "(SELECT max(id) FROM losses_loss))"
            )
    return conflict


def _indexes_dropped(tables: list[str]) -> list[str]:
    """Drop the tables' plain indexes (not those of their keys and constraints); return them."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                tables,
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [tables],
            )
        found = cursor.fetchall()
        for name, _sql in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


class _Table:
    """A table's columns in insert order: those each row gives, then constants (defaults)."""

    def __init__(self, model: Any, varying: list[str], sqlite: bool) -> None:
        from django.db import models

        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in varying and not f.primary_key]
        self.table = model._meta.db_table
        self.columns = [fields[name].column for name in varying] + [f.column for f in rest]
        constants: list[Any] = []
        for f in rest:
            value = f.get_default()
            if isinstance(f, models.JSONField):
                value = json.dumps(value)
            elif sqlite and isinstance(value, bool):
                value = int(value)
            constants.append(value)
        self.constants = tuple(constants)
        self.sqlite = sqlite

    def insert(self, connection: Any, rows: list[tuple[Any, ...]]) -> None:
        """Write rows (their varying values; the constants are added here)."""
        columns = ", ".join(self.columns)
        full = [row + self.constants for row in rows]
        connection.ensure_connection()
        raw = connection.connection
        if self.sqlite:
            marks = ", ".join("?" * len(self.columns))
            raw.executemany(f"INSERT INTO {self.table} ({columns}) VALUES ({marks})", full)
            return
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):
            for row in full:
                copy.write_row(row)


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

    from attrition.accounts.models import Role, User
    from attrition.catalog.models import EquipmentModel, Side
    from attrition.counting.selectors import tally_report
    from attrition.counting.services import tally_create
    from attrition.counting.timeline import timeline
    from attrition.losses.tally import TallyRule, data_version, tally_count

    print(f"database: {connection.vendor}; python {sys.version.split()[0]}", flush=True)
    t = time.perf_counter()
    big = _populate_fast(args.losses, seed=1)
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
    # 200 days before the latest change: the same moment relative to the data on every engine,
    # however long populating took, so that the digests compare.
    latest = data_version()
    assert latest is not None
    past = latest - dt.timedelta(days=200)
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
    _time(
        "timeline per month, everything",
        n,
        args.repeat,
        lambda: timeline(conflict=big, period="month"),
    )
    _time(
        "timeline per week as of 200 days ago, armour",
        3 * n,
        args.repeat,
        lambda: timeline(
            conflict=big, rule=TallyRule.parse(armour_rule), period="week", as_of=past
        ),
    )

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
        now = tally_count(conflict=big, rule=rule).by_fate
        line = timeline(conflict=big, rule=rule, period="month", as_of=past)
        points = [(str(p.start), p.count, p.cumulative) for p in line.points]
        digest[name] = [sorted(counted.items()), sorted(now.items()), points, line.undated]
    text = json.dumps(digest, sort_keys=True).encode()
    print(f"result digest (compare across engines): {hashlib.sha256(text).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
