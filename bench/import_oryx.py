"""Benchmark the Oryx importers: the four stored pages, then the oryx_data CSV set.

Each input: parse, dry run, import, re-import. The pages go first, so that the catalog knows
the models the CSV set names (it gives no equipment type of its own).

Usage: python bench/import_oryx.py [--pages russia,ukraine,aircraft,naval] [--no-csv]
Uses DATABASE_URL if set (PostgreSQL), otherwise a fresh SQLite file in a temporary data dir.
Reads the pages from ../shared/data/borderlands_oryx_pages. Prints one line per page and step:
page, step, items, seconds, items per second.
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


def _line(page: str, step: str, items: int, seconds: float) -> None:
    rate = items / seconds if seconds else 0.0
    print(f"{page:<9} {step:<9} {items:>6} items {seconds:8.2f} s {rate:8.0f}/s", flush=True)


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
        started = time.perf_counter()
        items, _ = page_items(page_parse(page_decode(data)))
        _line(name, "parse", len(items), time.perf_counter() - started)
        for step, dry_run in (("dry run", True), ("import", False), ("again", False)):
            started = time.perf_counter()
            report = import_run(
                kind="oryx_html",
                data=data,
                source_name=name,
                options=ImportOptions(dry_run=dry_run),
            )
            seconds = time.perf_counter() - started
            total += seconds if step == "import" else 0.0
            done = len(report.created) + len(report.updated) + len(report.unchanged)
            _line(name, step, done, seconds)
    print(f"all pages imported in {total:.1f} s")
    if not args.no_csv and CSV_DIR.is_dir():
        _csv()
    return 0


def _csv() -> None:
    from attrition.importers.oryx_csv.read import dataset_read, input_files
    from attrition.importers.registry import ImportOptions, import_run, source_read

    data = source_read(CSV_DIR, directory=True)
    started = time.perf_counter()
    dataset = dataset_read(input_files(data), source_name="oryx_data")
    _line("oryx_csv", "parse", len(dataset.items), time.perf_counter() - started)
    for step, dry_run in (("dry run", True), ("import", False), ("again", False)):
        started = time.perf_counter()
        report = import_run(
            kind="oryx_csv",
            data=data,
            source_name="oryx_data",
            options=ImportOptions(dry_run=dry_run),
        )
        done = len(report.created) + len(report.updated) + len(report.unchanged)
        _line("oryx_csv", step, done, time.perf_counter() - started)
    print(f"oryx_csv: {dataset.rows} rows, {len(report.rejected)} rejected")


if __name__ == "__main__":
    sys.exit(main())
