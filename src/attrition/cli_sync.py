"""The `attrition sync` commands: bring the ledger up to date with a tracker's API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from attrition.cli_base import PROG, CliError, counts_text, say
from attrition.cli_ledger import ClickProgress


class LabelledProgress(ClickProgress):
    """A click progress bar on standard error with a label of its own."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.total = self.done = 0

    def start(self, total: int) -> None:
        """Show a bar of `total` steps."""
        self.total, self.done = total, 0
        self.bar = click.progressbar(length=total, label=f"{PROG}: {self.label}", file=sys.stderr)
        self.bar.__enter__()

    def advance(self, steps: int = 1) -> None:
        """Move the bar on; end its line once it is full, so that the next bar starts below."""
        super().advance(steps)
        self.done += steps
        if self.done >= self.total:
            self.finish()


@click.group()
def sync() -> None:
    """Bring the ledger up to date with a tracker's API (KIND: warspotting)."""


@sync.command()
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Base URL of the WarSpotting API (default: ATTRITION_WARSPOTTING_URL).",
)
@click.option("--full", is_flag=True, help="Fetch every day, and mark what WarSpotting dropped.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day to fetch (default: the last day synced).",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day to fetch (default: today, UTC).",
)
@click.option("--dry-run", is_flag=True, help="Fetch and report what would change; write nothing.")
@click.option("--conflict", default=None, metavar="SLUG", help="Conflict to import into.")
@click.option(
    "--status",
    type=click.Choice(["submitted", "verified"]),
    default="submitted",
    show_default=True,
    help="Review status of the imported losses.",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write what was fetched to this JSON file (importable offline).",
)
def warspotting(
    base_url: str | None,
    full: bool,
    since: Any,
    until: Any,
    dry_run: bool,
    conflict: str | None,
    status: str,
    save: Path | None,
) -> None:
    """Fetch WarSpotting's records since the last sync (or all with --full) and import them."""
    from attrition import config
    from attrition.importers.registry import ImportOptions
    from attrition.importers.warspotting.sync import warspotting_sync

    url = base_url or config.WARSPOTTING_URL.read()
    if not url:
        raise CliError("give --base-url URL, or set ATTRITION_WARSPOTTING_URL")
    fetching, importing = LabelledProgress("fetching days"), LabelledProgress("importing")
    try:
        result = warspotting_sync(
            base_url=url,
            options=ImportOptions(conflict=conflict, status=status, dry_run=dry_run),
            full=full,
            since=since.date() if since else None,
            until=until.date() if until else None,
            progress=importing,
            fetch_progress=fetching,
            save=save,
        )
    finally:
        fetching.finish()
        importing.finish()
    click.echo(result.report.text(), nl=False)
    say(
        f"sync: {result.days} day(s) {result.first} to {result.last}, {result.requests} "
        f"request(s), {result.records} record(s); {counts_text(result.report.counts())}",
        err=True,
    )
