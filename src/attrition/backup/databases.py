"""Extra database connections: a consistent snapshot to back up from, and a target to move to."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

SNAPSHOT = "attrition_backup_snapshot"


@contextmanager
def database_alias(alias: str, db: dict[str, Any]) -> Iterator[BaseDatabaseWrapper]:
    """Make `alias` a connection to the database `db` describes while the block runs."""
    handler: Any = connections
    configured = handler.configure_settings(
        {DEFAULT_DB_ALIAS: dict(handler.settings[DEFAULT_DB_ALIAS]), alias: dict(db)}
    )[alias]
    handler.settings[alias] = configured
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        del connections[alias]
        del handler.settings[alias]


def sqlite_copy(source: Path, dest: Path) -> None:
    """Copy a live SQLite database, as one consistent state, with SQLite's online backup API.

    The source is opened read-only: a backup never changes it, and writers may go on meanwhile.
    """
    src = sqlite3.connect(f"file:{pathname2url(str(source))}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)  # all pages in one step: one consistent state
        finally:
            out.close()
    finally:
        src.close()


@contextmanager
def snapshot(*, scratch: Path) -> Iterator[str]:
    """Yield the alias of a connection that sees one consistent state of the default database.

    SQLite: a copy made with the online backup API, in `scratch`, removed afterwards.
    PostgreSQL: one read-only REPEATABLE READ transaction on the default connection.
    """
    default = connections[DEFAULT_DB_ALIAS]
    if default.vendor == "sqlite":
        source = Path(default.settings_dict["NAME"])
        if not source.is_file():
            raise FileNotFoundError(f"there is no database at {source}")
        fd, name = tempfile.mkstemp(prefix=".attrition-snapshot-", suffix=".sqlite3", dir=scratch)
        os.close(fd)
        copy = Path(name)
        try:
            sqlite_copy(source, copy)
            db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(copy)}
            with database_alias(SNAPSHOT, db):
                yield SNAPSHOT
        finally:
            for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                with suppress(FileNotFoundError):
                    leftover.unlink()
        return
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        with default.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield DEFAULT_DB_ALIAS
