"""The `attrition` commands that count: saved tallies, timelines, claims and estimates.

Each prints text for a person by default, or with `--format csv|json` the same file the site and
the API export; `--as-of` reads the ledger as it stood at a date (its end, UTC) or ISO 8601 time.
"""

from __future__ import annotations

from typing import Any

import click

from attrition.cli_base import CliError

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="Text to read, or the CSV or JSON file the site and API export.",
)
AS_OF = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="WHEN",
    help="Read the ledger as it stood at this date (its end, UTC) or ISO 8601 time.",
)


def _tally_rule(conflict: str, tally: str | None, as_of: Any) -> tuple[Any, Any, Any]:
    """Return (conflict, saved tally or None, rule as it stood at `as_of`) for the slugs given."""
    from attrition.catalog.models import Conflict
    from attrition.counting.selectors import tally_rule_at
    from attrition.losses.models import Tally
    from attrition.losses.tally import TallyRule

    found = Conflict.objects.filter(slug=conflict).first()
    if found is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        raise CliError(f"no conflict {conflict!r} (known: {known})")
    if tally is None:
        return found, None, TallyRule()
    saved = Tally.objects.filter(conflict=found, slug=tally, deleted_at__isnull=True).first()
    if saved is None:
        raise CliError(f"no tally {tally!r} in {conflict}")
    return found, saved, tally_rule_at(tally=saved, as_of=as_of)


def _moment(text: str | None) -> Any:
    from attrition.counting.selectors import as_of_parse

    return as_of_parse(text)


def _emit(data: Any, fmt: str, to_csv: Any) -> None:
    from attrition.counting.exports import export_text

    click.echo(export_text(data, fmt, to_csv), nl=False)


@click.command()
@click.argument("conflict")
@click.argument("slug")
@AS_OF
@FORMAT
def tally(conflict: str, slug: str, as_of: str | None, fmt: str) -> None:
    """Print a saved tally's count, breakdown and citable sentence, now or as of a moment."""
    from attrition.counting import exports
    from attrition.counting.selectors import tally_report

    _found, saved, _rule = _tally_rule(conflict, slug, None)
    report = tally_report(tally=saved, as_of=_moment(as_of))
    data = exports.tally_data(report)
    if fmt != "text":
        _emit(data, fmt, exports.tally_csv)
        return
    click.echo(report.sentence)
    for dimension in ("fate", "side", "category"):
        for line in data[f"by_{dimension}"]:
            click.echo(f"{dimension}\t{line['label']}\t{line['count']}")
    click.echo(f"as of {data['as_of']}; permalink {report.permalink}")


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
@AS_OF
@FORMAT
def timeline(
    conflict: str, tally: str | None, basis: str, period: str, as_of: str | None, fmt: str
) -> None:
    """Print a conflict's documented losses per period, with running totals and backlog marks."""
    from attrition.counting import exports
    from attrition.counting.selectors import pinned_moment
    from attrition.counting.timeline import timeline as timeline_of

    moment = _moment(as_of)
    found, saved, rule = _tally_rule(conflict, tally, moment)
    line = timeline_of(conflict=found, rule=rule, basis=basis, period=period, as_of=moment)
    if fmt != "text":
        pinned = moment or pinned_moment(tally=saved)
        data = exports.timeline_data(line, conflict=found, tally=saved, as_of=pinned)
        _emit(data, fmt, exports.timeline_csv)
        return
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
@click.option("--conflict", default=None, metavar="SLUG", help="Only this conflict's claims.")
@FORMAT
def claims(conflict: str | None, fmt: str) -> None:
    """Print verified claims, each beside the documented count of its scope (never added in)."""
    from attrition.claims.selectors import claims_beside
    from attrition.counting import exports

    where = _tally_rule(conflict, None, None)[0] if conflict else None
    rows = claims_beside(conflict=where)
    if fmt != "text":
        _emit([exports.claim_data(row) for row in rows], fmt, exports.claims_csv)
        return
    for row in rows:
        c = row.claim
        documented = "" if row.documented_now is None else f"; documented now {row.documented_now}"
        click.echo(f"{c.claimed_on}\t{c.claimant}: {row.figure} {c.scope}{documented}")


def _estimate_text(report: Any) -> None:
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
@AS_OF
@FORMAT
def estimate(
    conflict: str,
    tally: str | None,
    kind: str,
    max_lists: int,
    by_category: bool,
    as_of: str | None,
    fmt: str,
) -> None:
    """Print an estimate of the total, documented or not, from the overlap of independent lists."""
    from attrition.counting import exports
    from attrition.counting.estimates import tally_estimate, undocumented_estimate

    moment = _moment(as_of)
    found, saved, rule = _tally_rule(conflict, tally, moment)
    options = {"kind": kind, "max_lists": max_lists, "stratify": by_category, "as_of": moment}
    if saved is not None:
        report = tally_estimate(tally=saved, **options)
    else:
        report = undocumented_estimate(conflict=found, rule=rule, **options)
    if fmt == "text":
        _estimate_text(report)
        return
    data = exports.estimate_report_data(report, conflict=found, tally=saved)
    _emit(data, fmt, exports.estimate_csv)
