"""The `attrition territory` commands: import control records, and summarise control on a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from attrition.cli_base import counts_text, say

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def territory() -> None:
    """Record and summarise who controlled which admin unit when."""


def _read(file: str) -> bytes:
    from attrition.importers.registry import source_read

    return source_read(file)


def _finish(report: Any) -> None:
    click.echo(report.text(), nl=False)
    say(f"import: {counts_text(report.counts())}", err=True)


@territory.command(name="import-csv")
@click.argument("file", metavar="FILE")
@click.option("--conflict", required=True, metavar="SLUG", help="Conflict to import into.")
@click.option("--dry-run", is_flag=True, help="Report what the import would do; write nothing.")
@click.option(
    "--status",
    type=click.Choice(["draft", "submitted"]),
    default="submitted",
    show_default=True,
    help="Review status of the imported records (reviewers verify them).",
)
def import_csv(file: str, conflict: str, dry_run: bool, status: str) -> None:
    """Import control records from a CSV file (province, district, date, status, source).

    Place names are matched through the alias table; unmatched names are reported, never
    guessed. The import is planned first; --dry-run stops there.
    """
    from attrition.territory.imports import conflict_get, csv_import

    report = csv_import(
        conflict=conflict_get(conflict),
        data=_read(file),
        source=Path(file).name,
        dry_run=dry_run,
        review_status=status,
    )
    _finish(report)


@territory.command(name="import-acled")
@click.argument("file", metavar="FILE")
@click.option("--conflict", required=True, metavar="SLUG", help="Conflict to import into.")
@click.option("--dry-run", is_flag=True, help="Report what the import would do; write nothing.")
def import_acled(file: str, conflict: str, dry_run: bool) -> None:
    """Import territory transfers from your own ACLED export as evidence and draft records."""
    from attrition.territory.acled import acled_import
    from attrition.territory.imports import conflict_get

    report = acled_import(
        conflict=conflict_get(conflict), data=_read(file), source=Path(file).name, dry_run=dry_run
    )
    _finish(report)


@territory.command()
@click.argument("conflict", metavar="CONFLICT")
@click.option("--date", "on", type=DATE, default=None, help="Date to report on [default: today].")
@click.option(
    "--since", "start", type=DATE, default=None, help="Also report changes from this date."
)
def summary(conflict: str, on: dt.datetime | None, start: dt.datetime | None) -> None:
    """Print district counts by status, province roll-ups and border shares on a date."""
    from attrition.territory.imports import conflict_get
    from attrition.territory.selectors import (
        STATUS_LABELS,
        border_shares,
        district_change,
        district_counts,
        province_rollup,
    )

    found = conflict_get(conflict)
    day = on.date() if on is not None else dt.date.today()
    counts = district_counts(found, day)
    parts = ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in counts.by_status.items())
    click.echo(f"{found.name} on {day}: {counts.total} districts: {parts}")
    click.echo(f"  {counts.stale} of them last confirmed more than 30 days before")
    if start is not None:
        change = district_change(found, start.date(), day)
        kinds = ", ".join(f"{n} {kind}" for kind, n in change.by_kind.items() if n) or "none"
        click.echo(f"  changes since {start.date()}: {kinds}")
    for row in province_rollup(found, day):
        click.echo(f"  {row.sentence}")
    for share in border_shares(found, day):
        click.echo(f"  {share.sentence()}")


@territory.command(name="import-boundaries")
@click.option("--slug", required=True, help="Short name of the new boundary set, e.g. syr-2020.")
@click.option("--name", required=True, help="Its title, e.g. 'Syria, districts (2020)'.")
@click.option("--source", required=True, help="Where the boundaries come from.")
@click.option("--licence", required=True, help="Their licence, e.g. CC-BY-4.0.")
@click.option("--attribution", required=True, help="The credit line shown with them.")
@click.option("--country-code", required=True, help="Code of the country unit, e.g. SY.")
@click.option("--country-name", default="", help="Name of the country unit.")
@click.option("--provinces", "provinces_file", required=True, type=click.Path(dir_okay=False))
@click.option("--districts", "districts_file", required=True, type=click.Path(dir_okay=False))
@click.option("--province-code", default="adm1_pcode", show_default=True, help="Property.")
@click.option("--province-name", default="name_en", show_default=True, help="Property.")
@click.option("--province-local-name", default="", help="Property of the local-script name.")
@click.option("--district-code", default="district_id", show_default=True, help="Property.")
@click.option("--district-name", default="name_en", show_default=True, help="Property.")
@click.option(
    "--district-province",
    default="adm1_pcode",
    show_default=True,
    help="Property of a district that holds its province's code.",
)
@click.option("--dry-run", is_flag=True, help="Check the files and report; write nothing.")
def import_boundaries(**options: Any) -> None:
    """Import a boundary set from two GeoJSON files: its provinces and its districts.

    Every feature is checked first; one that is not valid refuses the whole import, named. A
    conflict uses the new set once an admin picks it as the conflict's boundary set.
    """
    from attrition.territory.boundaries import Properties, boundary_set_import

    report = boundary_set_import(
        slug=options["slug"],
        name=options["name"],
        source=options["source"],
        licence=options["licence"],
        attribution=options["attribution"],
        country_code=options["country_code"],
        country_name=options["country_name"],
        provinces=Path(options["provinces_file"]).read_bytes(),
        districts=Path(options["districts_file"]).read_bytes(),
        province_props=Properties(
            code=options["province_code"],
            name=options["province_name"],
            local_name=options["province_local_name"],
        ),
        district_props=Properties(
            code=options["district_code"],
            name=options["district_name"],
            parent=options["district_province"],
        ),
        dry_run=options["dry_run"],
    )
    click.echo(report.text(), nl=False)
