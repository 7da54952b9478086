"""The `attrition` commands that count over time and estimate the undocumented."""

from __future__ import annotations

from typing import Any

import click

from attrition.cli_base import CliError


def _tally_rule(conflict: str, tally: str | None) -> tuple[Any, Any]:
    """Return (conflict, rule) for a conflict slug and an optional saved tally's slug."""
    from attrition.catalog.models import Conflict
    from attrition.losses.models import Tally
    from attrition.losses.tally import TallyRule

    found = Conflict.objects.filter(slug=conflict).first()
    if found is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        raise CliError(f"no conflict {conflict!r} (known: {known})")
    if tally is None:
        return found, TallyRule()
    saved = Tally.objects.filter(conflict=found, slug=tally, deleted_at__isnull=True).first()
    if saved is None:
        raise CliError(f"no tally {tally!r} in {conflict}")
    return found, TallyRule.parse(saved.rule)


@click.command()
@click.argument("conflict")
@click.option("--tally", default=None, metavar="SLUG", help="Count a saved tally's rule.")
@click.option(
    "--basis",
    type=click.Choice(["first_seen", "posted"]),
    default="first_seen",
    show_default=True,
    help="Date each loss is placed by: first seen, or its earliest evidence's posting.",
)
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    default="month",
    show_default=True,
    help="Length of each period.",
)
def timeline(conflict: str, tally: str | None, basis: str, period: str) -> None:
    """Print a conflict's documented losses per period, with running totals and backlog marks."""
    from attrition.counting.timeline import timeline as timeline_of

    found, rule = _tally_rule(conflict, tally)
    line = timeline_of(conflict=found, rule=rule, basis=basis, period=period)
    click.echo("start\tcount\tcumulative\tlate\tincomplete")
    for p in line.points:
        mark = "yes" if p.incomplete else ""
        click.echo(f"{p.start}\t{p.count}\t{p.cumulative}\t{p.late}\t{mark}")
    click.echo(f"undated: {line.undated}; total: {line.total}")
    if line.incomplete_from is not None:
        click.echo(
            f"reporting backlog: 9 in 10 items were posted within {line.lag_days_p90} days of "
            f"the event; periods from {line.incomplete_from} on are still filling in"
        )


@click.command()
@click.argument("conflict")
@click.option("--tally", default=None, metavar="SLUG", help="Estimate a saved tally's scope.")
@click.option(
    "--lists",
    "kind",
    type=click.Choice(["platform", "channel", "importer", "collector"]),
    default="platform",
    show_default=True,
    help="What makes a list of sources.",
)
@click.option(
    "--max-lists", default=4, show_default=True, type=click.IntRange(2, 5), help="Lists used."
)
@click.option("--by-category", is_flag=True, help="Also estimate each category on its own.")
def estimate(
    conflict: str, tally: str | None, kind: str, max_lists: int, by_category: bool
) -> None:
    """Print an estimate of the total, documented or not, from the overlap of independent lists."""
    from attrition.counting.estimates import undocumented_estimate

    found, rule = _tally_rule(conflict, tally)
    report = undocumented_estimate(
        conflict=found, rule=rule, kind=kind, max_lists=max_lists, stratify=by_category
    )
    click.echo(f"documented: {report.documented}")
    rows = [("all", report.estimate)] + [(s.label, s.estimate) for s in report.strata]
    for label, e in rows:
        sizes = ", ".join(f"{name} {n}" for name, n in e.list_sizes.items())
        click.echo(f"{label}: lists {sizes or 'none'}")
        if e.refused:
            for c in e.refusals:
                click.echo(f"  refused ({c.code}): {c.message}")
            continue
        click.echo(
            f"  estimate {e.total:,.0f} ({e.level:.0%} interval {e.low:,.0f} to {e.high:,.0f}); "
            f"{e.method}, {e.model}"
        )
        for c in e.warnings:
            click.echo(f"  warning ({c.code}): {c.message}")
    if report.strata:
        if report.stratified_total is None:
            click.echo(report.stratified_refusal)
        else:
            click.echo(
                f"sum of categories: {report.stratified_total:,.0f} "
                f"({report.stratified_low:,.0f} to {report.stratified_high:,.0f})"
            )
    for c in report.notes:
        click.echo(f"note ({c.code}): {c.message}")
