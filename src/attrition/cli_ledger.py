"""The `attrition` commands that read and fill the ledger: count, import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from attrition.cli_base import PROG, CliError, counts_text, say


@click.command()
@click.argument("conflict")
@click.option("--side", "sides", multiple=True, help="Slug of a side that lost (repeatable).")
@click.option(
    "--category", "categories_in", multiple=True, help="Category slug to include (repeatable)."
)
@click.option(
    "--exclude-category",
    "categories_out",
    multiple=True,
    help="Category slug to leave out (repeatable).",
)
@click.option(
    "--fate",
    "fates",
    multiple=True,
    type=click.Choice(["destroyed", "damaged", "abandoned", "captured"]),
    help="Headline fate to include (repeatable).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Count the ledger as it stood at this UTC date or time.",
)
def count(
    conflict: str,
    sides: tuple[str, ...],
    categories_in: tuple[str, ...],
    categories_out: tuple[str, ...],
    fates: tuple[str, ...],
    as_of: Any,
) -> None:
    """Print the documented count of a conflict's losses, by side and fate, under a rule."""
    import datetime as dt

    from attrition.catalog.models import Conflict, Side
    from attrition.losses.selectors import FateCounts
    from attrition.losses.tally import TallyRule, tally_count

    found = Conflict.objects.filter(slug=conflict).first()
    if found is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        raise CliError(f"no conflict {conflict!r} (known: {known})")
    rule = TallyRule.parse(
        {
            "sides": list(sides),
            "categories_in": list(categories_in),
            "categories_out": list(categories_out),
            "fates": list(fates),
        }
    )
    when = as_of.replace(tzinfo=dt.UTC) if as_of is not None else None
    result = tally_count(conflict=found, rule=rule, as_of=when)
    for side in Side.objects.filter(conflict=found):
        by_fate = {
            fate: n for (side_id, fate), n in result.by_side_fate.items() if side_id == side.pk
        }
        counts = FateCounts(
            total=result.by_side.get(side.pk, 0),
            fates=[(fate, by_fate.get(fate, 0)) for fate, _ in result.fates_in_order()],
        )
        click.echo(counts.sentence(side.short_name))
    stamp = f" as of {when:%Y-%m-%d %H:%M}Z" if when else ""
    click.echo(f"total: {result.total}{stamp}")


class ClickProgress:
    """An import's progress as a click progress bar on standard error."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, total: int) -> None:
        """Show a bar of `total` steps."""
        self.bar = click.progressbar(length=total, label=f"{PROG}: importing", file=sys.stderr)
        self.bar.__enter__()

    def advance(self, steps: int = 1) -> None:
        """Move the bar on."""
        if self.bar is not None:
            self.bar.update(steps)

    def finish(self) -> None:
        """Close the bar (its line ends)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def mapping_params(kind: str, *, mapping: str | None, mapping_file: str | None) -> dict[str, Any]:
    """Return the import's params for a column mapping given by name or file (csv only)."""
    if mapping is None and mapping_file is None:
        return {}
    if kind != "csv":
        raise CliError("--mapping and --mapping-file are options of `import csv` only")
    if mapping is not None and mapping_file is not None:
        raise CliError("give --mapping NAME or --mapping-file FILE, not both")
    from attrition.cli_import_mapping import mapping_file_read
    from attrition.importers.csv_generic.mapping import mapping_get

    spec = mapping_get(name=mapping) if mapping else mapping_file_read(str(mapping_file))
    name = mapping or Path(str(mapping_file)).stem
    return {"mapping": spec.model_dump(exclude_defaults=True), "mapping_name": name}


@click.command(name="import")
@click.argument("kind", metavar="KIND")
@click.argument("file", metavar="FILE")
@click.option("--dry-run", is_flag=True, help="Report what the import would do; write nothing.")
@click.option("--conflict", default=None, metavar="SLUG", help="Conflict to import into.")
@click.option("--side", default=None, metavar="SLUG", help="Side that lost the items.")
@click.option(
    "--status",
    type=click.Choice(["submitted", "verified"]),
    default="submitted",
    show_default=True,
    help="Review status of the imported losses.",
)
@click.option(
    "--mapping",
    default=None,
    metavar="NAME",
    help="csv: a saved column mapping (see `attrition import-mapping`), or `attrition`.",
)
@click.option(
    "--mapping-file",
    default=None,
    metavar="FILE",
    help="csv: a column mapping in a JSON file.",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Mark items removed even when the input drops most of what the last import held.",
)
def import_(
    kind: str,
    file: str,
    dry_run: bool,
    conflict: str | None,
    side: str | None,
    status: str,
    mapping: str | None,
    mapping_file: str | None,
    allow_removals: bool,
) -> None:
    """Import a tracker's page or file (KIND: oryx_html, oryx_csv, warspotting, csv), reporting
    what changed.

    Every import is planned first; --dry-run stops there. Otherwise the plan is written in one
    transaction: all of it or, on an error, nothing.
    """
    from attrition.importers.registry import ImportOptions, import_run, importer_get, source_read

    importer = importer_get(kind)
    options = ImportOptions(
        conflict=conflict,
        side=side,
        status=status,
        dry_run=dry_run,
        params=mapping_params(kind, mapping=mapping, mapping_file=mapping_file)
        | ({"allow_removals": True} if allow_removals else {}),
    )
    # An importer of an API (warspotting) takes the API's base URL and fetches what is due.
    import_url = getattr(importer, "import_url", None)
    from_api = import_url is not None and file.lower().startswith(("http://", "https://"))
    directory = getattr(importer, "reads_directories", False)
    data = b"" if from_api else source_read(file, directory=directory)
    progress = ClickProgress()
    try:
        if from_api and import_url is not None:
            report = import_url(file, options=options, progress=progress)
        else:
            report = import_run(
                kind=kind,
                data=data,
                source_name=Path(file).name,
                options=options,
                progress=progress,
            )
    finally:
        progress.finish()
    click.echo(report.text(), nl=False)
    say(f"import: {counts_text(report.counts())}", err=True)
