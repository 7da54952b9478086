"""The `attrition` commands for evidence: capture, bundle, verify."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from attrition.cli_base import CliError, CliFailure, say


def job_line(job: Any) -> str:
    """Return one line saying where a capture job stands."""
    what = job.url or f"upload {job.upload_name!r}"
    text = f"job #{job.pk} {job.state}: {what} (evidence #{job.evidence_id})"
    if job.state == "done":
        n = job.custody.count()
        text += f", {n} capture{'s' if n != 1 else ''}"
    if job.error_message:
        text += f": {job.error_code}: {job.error_message}"
    return text


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--file",
    "url_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read URLs from this file, one per line ('-' for standard input); # starts a comment.",
)
@click.option(
    "--upload",
    "uploads",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Archive a file from disk as evidence of its own (repeatable).",
)
@click.option(
    "--run",
    "run_here",
    is_flag=True,
    help="Run the capture jobs in this process and wait for them, instead of queueing them "
    "for the worker.",
)
def capture(
    urls: tuple[str, ...], url_file: Any, uploads: tuple[Path, ...], run_here: bool
) -> None:
    """Archive evidence: fetch each URL (or store each file) with hashes and custody."""
    from attrition.capture import pipeline, services
    from attrition.errors import AttritionError

    lines = list(urls) + (url_file.read().splitlines() if url_file else [])
    if not lines and not uploads:
        raise CliError("give one or more URLs, --file FILE or --upload FILE")
    results = services.capture_submit_many(urls=lines, via="cli", nudge=not run_here)
    for path in uploads:
        try:
            with path.open("rb") as fh:
                results.append(
                    services.capture_upload(fh=fh, name=path.name, via="cli", nudge=not run_here)
                )
        except AttritionError as exc:
            results.append(exc)
    failed = 0
    for result in results:
        if isinstance(result, AttritionError):
            failed += 1
            say(f"refused: {result.message}", err=True)
            continue
        if run_here:
            pipeline.job_run(result.pk)
            result.refresh_from_db()
            failed += result.state == "failed"
        say(job_line(result))
    if not run_here and any(not isinstance(r, AttritionError) for r in results):
        say("queued: the worker (`attrition worker`, or the one `attrition up` starts) runs them")
    if failed:
        raise CliFailure(f"{failed} of {len(results)} could not be captured")


def evidence_find(ref: str) -> Any:
    """Return the evidence an id or a URL names, or raise CliError."""
    from attrition.evidence.models import Evidence
    from attrition.evidence.services import url_canonical

    if ref.isdigit():
        found = Evidence.objects.filter(pk=int(ref)).first()
    else:
        found = Evidence.objects.filter(canonical_url=url_canonical(ref)).first()
    if found is None:
        raise CliError(f"no evidence {ref!r} (give its number or its URL)")
    return found


@click.command()
@click.argument("evidence")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Zip file to write (default: evidence-<id>-<time>.zip in the current directory).",
)
def bundle(evidence: str, output: Path | None) -> None:
    """Write a verification bundle of a piece of evidence: originals, hashes, custody, log."""
    from attrition.evidence.bundle import bundle_default_name, bundle_write

    found = evidence_find(evidence)
    out = output or Path(bundle_default_name(found))
    if out.exists():
        raise CliError(f"{out} exists: not overwritten")
    manifest = bundle_write(evidence=found, out=out, via="cli")
    say(f"wrote {out}: {len(manifest['files'])} original(s) of evidence #{found.pk}")


@click.command()
@click.argument("bundle_zip", metavar="ZIP", type=click.Path(dir_okay=False, path_type=Path))
def verify(bundle_zip: Path) -> None:
    """Check a verification bundle offline and say what does not match."""
    from attrition.evidence.bundle import bundle_verify

    if not bundle_zip.exists():
        raise CliError(f"{bundle_zip}: no such file")
    verdict = bundle_verify(bundle_zip)
    for problem in verdict.problems:
        click.echo(f"MISMATCH {problem}", file=sys.stdout)
    if not verdict.ok:
        raise CliFailure(
            f"{bundle_zip} does NOT verify: {len(verdict.problems)} problem(s), "
            f"{verdict.checked} file(s) matched"
        )
    say(f"{bundle_zip} verifies: manifest and {verdict.checked} file(s) match their SHA-256")


@click.command()
@click.option("--check", is_flag=True, help="Check the sources that are due now, then report.")
@click.option("--conflict", default=None, help="Report only this conflict's losses (slug).")
def linkrot(check: bool, conflict: str | None) -> None:
    """Report losses whose every source is gone but whose captures survive."""
    from attrition.catalog.models import Conflict
    from attrition.evidence.liveness import linkrot_check, orphaned_losses

    scope = None
    if conflict is not None:
        scope = Conflict.objects.filter(slug=conflict).first()
        if scope is None:
            raise CliError(f"no conflict {conflict!r}")
    if check:
        counts = linkrot_check()
        say("checked: " + (", ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "none due"))
    rows = orphaned_losses(conflict=scope)
    for row in rows:
        loss = row["loss"]
        click.echo(
            f"loss #{loss.pk} {loss.model}: every source gone; "
            f"{len(row['captures'])} capture(s) kept: {', '.join(s[:12] for s in row['captures'])}"
        )
    say(f"{len(rows)} loss(es) rest on captures alone: their sources are gone")
