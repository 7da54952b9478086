"""`attrition migrate-to` moves an embedded SQLite instance into an empty PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backup.conftest import manifest_of, pg_database, run
from tests.backup.test_round_trip import assert_custody_append_only
from tests.test_cli import attrition


@pytest.mark.postgres
def test_it_moves_every_record_to_postgresql(sqlite_instance: Path, tmp_path: Path) -> None:
    source_db = (sqlite_instance / "attrition.sqlite3").read_bytes()
    with pg_database() as url:
        moved = run(sqlite_instance, "migrate-to", url)

        assert "counts and" in moved
        assert "sampled rows match" in moved
        assert (sqlite_instance / "attrition.sqlite3").read_bytes() == source_db
        # The same rows, byte for byte, as a backup of either database shows.
        on_sqlite, on_postgres = tmp_path / "sqlite.zip", tmp_path / "postgres.zip"
        run(sqlite_instance, "backup", "-o", str(on_sqlite))
        run(sqlite_instance, "backup", "-o", str(on_postgres), DATABASE_URL=url)
        assert (
            manifest_of(on_postgres)["database"]["sha256"]
            == (manifest_of(on_sqlite)["database"]["sha256"])
        )
        assert run(sqlite_instance, "count", "afghanistan-2021", DATABASE_URL=url) == run(
            sqlite_instance, "count", "afghanistan-2021"
        )
        assert_custody_append_only(url)
        # Sequences were moved on: new rows do not collide with copied ids.
        run(sqlite_instance, "createadmin", "--username", "mallory", DATABASE_URL=url)

        again = attrition(sqlite_instance, "migrate-to", url)
        assert again.returncode == 2
        assert "already holds data" in again.stderr
        assert "migrate-to needs an empty database" in again.stderr


@pytest.mark.postgres
def test_it_moves_into_a_database_migrated_but_empty(sqlite_instance: Path, tmp_path: Path) -> None:
    with pg_database() as url:
        run(tmp_path, "migrate", DATABASE_URL=url)
        run(sqlite_instance, "migrate-to", url)
        refused = attrition(sqlite_instance, "createadmin", "--username", "erin", DATABASE_URL=url)
        assert refused.returncode == 2, refused
        assert "already exists" in refused.stderr


def test_it_refuses_a_target_that_is_not_postgresql(sqlite_instance: Path, tmp_path: Path) -> None:
    result = attrition(sqlite_instance, "migrate-to", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert result.returncode == 2
    assert "give a postgres:// URL" in result.stderr


def test_it_refuses_a_url_it_cannot_parse(sqlite_instance: Path) -> None:
    result = attrition(sqlite_instance, "migrate-to", "mysql://db/x")
    assert result.returncode == 2
    assert "is not supported" in result.stderr
