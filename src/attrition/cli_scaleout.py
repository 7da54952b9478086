"""The `attrition` commands of the scale-out set-up: serve (web only) and scale-out (the switch)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from attrition.cli_base import CliError, plural, say

DEFAULT_BIND = "127.0.0.1:8000"


def serve_argv(*, bind: str, workers: int | None) -> list[str]:
    """Return gunicorn's command line with attrition's gunicorn settings."""
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:attrition.gunicorn_conf"]
    argv += ["--bind", bind]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return argv


def migrations_pending() -> list[str]:
    """Return the migrations the database still lacks, as app.name."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


@click.command()
@click.option(
    "--bind",
    default=DEFAULT_BIND,
    show_default=True,
    metavar="HOST:PORT",
    help="Address the web server listens on (unix:/path for a socket).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Web worker processes [default: ATTRITION_WEB_WORKERS].",
)
def serve(bind: str, workers: int | None) -> None:
    """Serve the web site and API only (gunicorn), for a machine behind a reverse proxy.

    Collects the static files, checks that the database schema is up to date (run `attrition
    migrate` once per release, from one machine), then becomes gunicorn with attrition's
    settings (`attrition.gunicorn_conf`). Run job workers with `attrition worker`, on this
    machine or others, with the queue on Redis or PostgreSQL (ATTRITION_QUEUE).
    """
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    pending = migrations_pending()
    if pending:
        raise CliError(
            f"the database lacks {plural(len(pending), 'migration')} ({pending[0]}, ...): "
            "run `attrition migrate` first"
        )
    call_command("collectstatic", interactive=False, verbosity=0)
    say(f"static files collected in {settings.STATIC_ROOT}")
    connections.close_all()
    argv = serve_argv(bind=bind, workers=workers)
    say(f"serving on {bind} with {plural(workers or settings.WEB_WORKERS, 'web process')}")
    sys.stdout.flush()
    sys.stderr.flush()
    # gunicorn takes this process's place, so that a service manager signals it directly.
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours


@click.command("scale-out")
@click.argument(
    "settings_file", metavar="SETTINGS_FILE", type=click.Path(dir_okay=False, path_type=Path)
)
def scale_out(settings_file: Path) -> None:
    """Move this embedded instance to the services SETTINGS_FILE names, in one go.

    SETTINGS_FILE holds NAME=value lines, the settings the scale-out services will run with
    (systemd's EnvironmentFile): DATABASE_URL (an empty PostgreSQL database), ATTRITION_QUEUE
    (Redis or PostgreSQL) and, for media in object storage, ATTRITION_STORAGE=s3 with the
    ATTRITION_S3_* settings. Every value is checked and every service reached before anything is
    copied; media files are copied and hashed (those already there with the same bytes are kept,
    so it can be run again after a failure); the database moves all or nothing. This instance is
    left as it was: stop it first.
    """
    from attrition.backup.scaleout import instance_switch

    report = instance_switch(settings_file=settings_file)
    say(f"job queue: {report.queue} answers")
    say(f"media: {report.storage}")
    if report.files_copied or report.files_present:
        say(
            f"copied {plural(report.files_copied, 'media file')} ({report.bytes_copied:,} bytes)"
            f", {report.files_present} already there; every SHA-256 matches"
        )
    moved = report.database
    if moved is not None:
        say(
            f"copied {plural(moved.rows, 'row')} in {plural(len(moved.counts), 'table')} to the "
            f"{moved.target}; counts and {plural(moved.sampled, 'sampled row')} match"
        )
    for note in report.notes:
        say(f"note: {note}")
    say(f"done: run `attrition serve` and `attrition worker` with the settings of {settings_file}")
