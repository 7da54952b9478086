"""The `attrition` commands that keep an instance safe: backup, restore, migrate-to."""

from __future__ import annotations

from pathlib import Path

import click

from attrition.cli_base import plural, say


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR_OR_ZIP",
    help="Where to write the backup: a name ending in .zip makes a zip file, any other a "
    "directory; it must not exist yet [default: attrition-backup-<UTC time>.zip here].",
)
def backup(output: Path | None) -> None:
    """Back up the database and every media file, with a manifest of their SHA-256 hashes.

    Reads one consistent state of the database while the instance keeps running, and never
    changes the instance. The backup appears under its name only once it is complete.
    """
    from attrition.backup.services import backup_create, backup_name

    report = backup_create(output=output or Path(backup_name()))
    say(
        f"backed up {plural(report.rows, 'row')} in {plural(report.tables, 'table')} and "
        f"{plural(report.files, 'media file')} ({report.bytes:,} bytes)"
    )
    say(f"database SHA-256 {report.sha256}")
    say(f"wrote {report.path}")


@click.command()
@click.argument("backup_path", metavar="BACKUP", type=click.Path(path_type=Path))
def restore(backup_path: Path) -> None:
    """Restore a backup (a .zip file or a directory) into this empty instance.

    Checks every file's SHA-256 first, refuses an instance that holds any data, restores all or
    nothing, and checks every table and file again from what was written.
    """
    from attrition.backup.services import backup_restore

    report = backup_restore(path=backup_path)
    say(
        f"restored {plural(report.rows, 'row')} in {plural(report.tables, 'table')} and "
        f"{plural(report.files, 'media file')} ({report.bytes:,} bytes); every SHA-256 matches"
    )


@click.command("migrate-to")
@click.argument("database_url", metavar="DATABASE_URL")
def migrate_to(database_url: str) -> None:
    """Move this embedded (SQLite) instance's database into an empty PostgreSQL database.

    Creates the schema there, copies every row in one transaction, compares the counts and a
    sample of rows, and leaves this instance's own database as it was.
    """
    from attrition.backup.moving import database_migrate_to

    report = database_migrate_to(url=database_url)
    say(
        f"copied {plural(report.rows, 'row')} in {plural(len(report.counts), 'table')} to the "
        f"{report.target}; counts and {plural(report.sampled, 'sampled row')} match"
    )
    say("to use it, set DATABASE_URL to that URL (media and the job queue stay where they are)")
