"""Instances to back up: real data directories filled through the `attrition` command."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.capture.media import image_bytes
from tests.test_cli import attrition


def run(data_dir: Path, *args: str, **env: str) -> str:
    """Run `attrition` and return its standard output; fail the test if it fails."""
    result = attrition(data_dir, *args, **env)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def instance_fill(data_dir: Path, tmp: Path, **env: str) -> None:
    """Make a realistic instance: schema, reference data, sample ledger, archived uploads, admin."""
    run(data_dir, "migrate", **env)
    run(data_dir, "reference", **env)
    run(data_dir, "demo", **env)
    uploads = []
    for color in ("red", "blue"):
        path = tmp / f"{color}.png"
        path.write_bytes(image_bytes("PNG", (80, 60), color))
        uploads += ["--upload", str(path)]
    run(data_dir, "capture", "--run", *uploads, **env)
    run(data_dir, "createadmin", "--username", "erin", **env)


def manifest_of(backup: Path) -> dict[str, Any]:
    """Return the manifest of a backup (zip or directory)."""
    if backup.is_dir():
        return dict(json.loads((backup / "manifest.json").read_text()))
    with zipfile.ZipFile(backup) as zf:
        return dict(json.loads(zf.read("manifest.json")))


def media_hashes(media_root: Path) -> dict[str, str]:
    """Return {name: SHA-256} of every file under a media directory."""
    return {
        path.relative_to(media_root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(media_root.rglob("*"))
        if path.is_file()
    }


def sqlite_counts(data_dir: Path) -> dict[str, int]:
    """Return the row count of every table of a data directory's SQLite database (not of the
    virtual tables and their shadow tables: indexes made from the others, such as FTS5's)."""
    with sqlite3.connect(data_dir / "attrition.sqlite3") as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


@pytest.fixture(scope="session")
def sqlite_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the data directory of a filled SQLite instance (tests must not change it)."""
    root = tmp_path_factory.mktemp("source")
    data_dir = root / "data"
    instance_fill(data_dir, root)
    return data_dir


def pg_server() -> dict[str, Any]:
    """Return how to reach the PostgreSQL server the test database is on."""
    from django.db import connection

    db = connection.settings_dict
    return {
        "host": db["HOST"] or "localhost",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }


@contextmanager
def pg_database() -> Iterator[str]:
    """Create a PostgreSQL database with a unique name; yield its URL; drop it afterwards."""
    import psycopg

    server = pg_server()
    name = f"attrition_backup_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = quote(server["user"] or "") + (
            f":{quote(server['password'])}" if server["password"] else ""
        )
        yield f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
