"""The `attrition dedup` commands: scan the ledger for duplicates and list the open pairs."""

from __future__ import annotations

import click

from attrition.cli_base import CliError, say


@click.group()
def dedup() -> None:
    """Find losses and media recorded twice."""


@dedup.command()
@click.option("--conflict", default=None, help="Scan only this conflict (slug).")
def scan(conflict: str | None) -> None:
    """Score every live loss against its possible duplicates and keep the open pairs."""
    from attrition.catalog.models import Conflict
    from attrition.dedup.models import LossCandidate
    from attrition.dedup.services import loss_candidates_refresh
    from attrition.losses.models import Loss

    losses = Loss.objects.filter(deleted_at__isnull=True).exclude(status="merged")
    if conflict is not None:
        scope = Conflict.objects.filter(slug=conflict).first()
        if scope is None:
            raise CliError(f"no conflict {conflict!r}")
        losses = losses.filter(conflict=scope)
    before = LossCandidate.objects.filter(status=LossCandidate.Status.OPEN).count()
    with click.progressbar(
        losses.order_by("pk").iterator(), length=losses.count(), label="scoring", file=None
    ) as bar:
        for loss in bar:
            loss_candidates_refresh(loss)
    after = LossCandidate.objects.filter(status=LossCandidate.Status.OPEN).count()
    say(f"{after} open pair(s), {after - before} new")


@dedup.command()
@click.option(
    "--status",
    type=click.Choice(["open", "merged", "different", "not_dup"]),
    default="open",
    show_default=True,
    help="Which pairs to list.",
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def candidates(status: str, limit: int) -> None:
    """List candidate pairs, the likeliest first, with the signals behind each score."""
    from attrition.dedup.selectors import candidates_listed

    rows = list(candidates_listed(status)[:limit])
    for pair in rows:
        click.echo(
            f"#{pair.pk} {pair.score:.2f} {pair.verdict}: loss #{pair.loss_a_id} "
            f"{pair.loss_a.model} ~ loss #{pair.loss_b_id} {pair.loss_b.model}"
        )
        for signal in pair.signals:
            if signal.get("contribution"):
                click.echo(f"    {signal['contribution']:+.2f} {signal['name']}: {signal['value']}")
    say(f"{len(rows)} pair(s) {status}")
