"""Benchmark the Oryx importers: the four stored pages, then the oryx_data CSV set.

Each input: parse, dry run, import, re-import. The pages go first, so that the catalog knows
the models the CSV set names (it gives no equipment type of its own).

Usage: python bench/import_oryx.py [--pages russia,ukraine,aircraft,naval] [--no-csv]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Reads the pages from ../shared/data/borderlands_oryx_pages. Prints one line per page and step:
page, step, items, wall seconds, CPU seconds of this process (steadier on a shared machine),
items per second. Stops with an error unless the oryx_data set imports with no rejections but
true garbage (free text, URLs run together) and its second import changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from instance import instance_setup

PAGES_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "borderlands_oryx_pages"
CSV_DIR = PAGES_DIR.parent / "oryx_data"


def _setup() -> None:
    instance_setup()
    from attrition.reference.load import reference_load

    reference_load()


class _Clock:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def seconds(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _line(page: str, step: str, items: int, clock: _Clock) -> float:
    seconds, cpu = clock.seconds()
    rate = items / seconds if seconds else 0.0
    print(
        f"{page:<9} {step:<9} {items:>6} items {seconds:8.2f} s {cpu:8.2f} s CPU {rate:8.0f}/s",
        flush=True,
    )
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="russia,ukraine,aircraft,naval")
    parser.add_argument("--no-csv", action="store_true", help="Skip the oryx_data CSV set.")
    args = parser.parse_args()
    if not PAGES_DIR.is_dir():
        print(f"the Oryx pages are not at {PAGES_DIR}", file=sys.stderr)
        return 1
    _setup()
    from django.db import connection

    from attrition.importers.oryx_html.parse import page_decode, page_items, page_parse
    from attrition.importers.registry import ImportOptions, import_run, source_read

    print(f"database: {connection.vendor}")
    total = 0.0
    for name in args.pages.split(","):
        data = source_read(PAGES_DIR / f"{name}.html.gz")
        clock = _Clock()
        items, _ = page_items(page_parse(page_decode(data)))
        _line(name, "parse", len(items), clock)
        for step, dry_run in (("dry run", True), ("import", False), ("again", False)):
            clock = _Clock()
            report = import_run(
                kind="oryx_html",
                data=data,
                source_name=name,
                options=ImportOptions(dry_run=dry_run),
            )
            done = len(report.created) + len(report.updated) + len(report.unchanged)
            seconds = _line(name, step, done, clock)
            total += seconds if step == "import" else 0.0
    print(f"all pages imported in {total:.1f} s")
    if not args.no_csv and CSV_DIR.is_dir():
        return _csv()
    return 0


# What the set holds that no repair can read: a cell of free text or two URLs run together.
GARBAGE = ("two URLs run together", "free text, not one URL", "not a URL", "no host in")


def _csv() -> int:
    from attrition.importers.oryx_csv.read import dataset_read, input_files
    from attrition.importers.registry import ImportOptions, import_run, source_read

    data = source_read(CSV_DIR, directory=True)
    clock = _Clock()
    dataset = dataset_read(input_files(data), source_name="oryx_data")
    _line("oryx_csv", "parse", len(dataset.items), clock)
    reports = {}
    for step, dry_run in (("dry run", True), ("import", False), ("again", False)):
        clock = _Clock()
        report = reports[step] = import_run(
            kind="oryx_csv",
            data=data,
            source_name="oryx_data",
            options=ImportOptions(dry_run=dry_run),
        )
        done = len(report.created) + len(report.updated) + len(report.unchanged)
        _line("oryx_csv", step, done, clock)
    first, again = reports["import"], reports["again"]
    counts = first.counts()
    print(
        f"oryx_csv: {dataset.rows} rows, {len(dataset.items)} items: {counts['created']} new "
        f"losses, {counts['linked']} linked to the pages' losses, {counts['link_conflicts']} not "
        f"linked (conflicts), {counts['rejected']} rejected, {len(first.models_created)} models "
        f"new under Unclassified; again: {again.counts()}"
    )
    garbage = [r for r in first.rejected if r.reason.startswith(GARBAGE)]
    if len(garbage) != len(first.rejected):
        others = [f"{r.what}: {r.reason}" for r in first.rejected if r not in garbage]
        print("rejected beyond true garbage:\n  " + "\n  ".join(others[:20]), file=sys.stderr)
        return 1
    if not again.changes_nothing:
        print(f"the second import changes something: {again.counts()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
