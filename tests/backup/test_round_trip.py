"""Backup, then restore into an empty instance: every record and every file comes back."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.backup.conftest import (
    instance_fill,
    manifest_of,
    media_hashes,
    pg_database,
    run,
    sqlite_counts,
)
from tests.test_cli import attrition


def test_it_backs_up_and_restores_every_record_and_file_on_sqlite(
    sqlite_instance: Path, tmp_path: Path
) -> None:
    before = sqlite_counts(sqlite_instance)
    source_db = (sqlite_instance / "attrition.sqlite3").read_bytes()
    backup = tmp_path / "nightly.zip"

    made = run(sqlite_instance, "backup", "--output", str(backup))

    assert f"attrition: wrote {backup}" in made
    assert (sqlite_instance / "attrition.sqlite3").read_bytes() == source_db, "source changed"
    assert not [p for p in tmp_path.iterdir() if p.name != "nightly.zip"], "leftovers"
    manifest = manifest_of(backup)
    tables = {t["table"]: t["rows"] for t in manifest["database"]["tables"]}
    assert tables == {k: v for k, v in before.items() if k != "django_migrations"}
    assert tables["evidence_custodyevent"] >= 2
    assert manifest["media"]["files"] == len(media_hashes(sqlite_instance / "media")) >= 2
    assert manifest["data_version"]
    with zipfile.ZipFile(backup) as zf:
        for name, sha256 in media_hashes(sqlite_instance / "media").items():
            assert hashlib.sha256(zf.read(f"media/{name}")).hexdigest() == sha256

    target = tmp_path / "restored"
    restored = run(target, "restore", str(backup))

    assert "every SHA-256 matches" in restored
    assert sqlite_counts(target) == before
    assert media_hashes(target / "media") == media_hashes(sqlite_instance / "media")
    again = tmp_path / "again"
    run(target, "backup", "--output", str(again))
    assert manifest_of(again)["database"] == manifest["database"], "a record differs"
    with (
        sqlite3.connect(target / "attrition.sqlite3") as db,
        pytest.raises(sqlite3.IntegrityError, match="append_only"),
    ):
        db.execute("UPDATE evidence_custodyevent SET action = 'viewed'")
    with (
        sqlite3.connect(target / "attrition.sqlite3") as db,
        pytest.raises(sqlite3.IntegrityError, match="append_only"),
    ):
        db.execute("DELETE FROM evidence_custodyevent")
    # The text search index is made again from the restored rows, and it holds every one.
    with sqlite3.connect(target / "attrition.sqlite3") as db:
        db.execute("INSERT INTO losses_loss_text (losses_loss_text) VALUES ('integrity-check')")
        indexed = db.execute(
            "SELECT count(*) FROM losses_loss_text WHERE losses_loss_text MATCH '\"los\"'"
        ).fetchone()[0]
        texts = db.execute(
            "SELECT count(*) FROM losses_loss WHERE markings || unit || place_text || description"
            " LIKE '%los%'"
        ).fetchone()[0]
    assert indexed == texts > 0


def test_it_writes_a_directory_backup_that_restores(sqlite_instance: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup-dir"
    run(sqlite_instance, "backup", "-o", str(backup))
    assert (backup / "manifest.json").is_file()
    assert (backup / "database" / "evidence_custodyevent.jsonl").is_file()

    target = tmp_path / "restored"
    run(target, "restore", str(backup))

    assert sqlite_counts(target) == sqlite_counts(sqlite_instance)
    assert media_hashes(target / "media") == media_hashes(sqlite_instance / "media")


def test_it_signs_in_the_restored_admin_and_counts_the_same(
    sqlite_instance: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "b.zip"
    run(sqlite_instance, "backup", "-o", str(backup))
    target = tmp_path / "restored"
    run(target, "restore", str(backup))

    assert run(target, "count", "afghanistan-2021") == run(
        sqlite_instance, "count", "afghanistan-2021"
    )
    refused = attrition(target, "createadmin", "--username", "erin")
    assert refused.returncode == 2
    assert "already exists" in refused.stderr
    # New rows get ids after the restored ones.
    run(target, "createadmin", "--username", "frank")


@pytest.mark.postgres
def test_it_backs_up_and_restores_every_record_and_file_on_postgresql(tmp_path: Path) -> None:
    with pg_database() as source_url, pg_database() as target_url:
        source = tmp_path / "source"
        instance_fill(source, tmp_path, DATABASE_URL=source_url)
        backup = tmp_path / "pg.zip"
        run(source, "backup", "-o", str(backup), DATABASE_URL=source_url)
        manifest = manifest_of(backup)
        assert manifest["database"]["vendor"] == "postgresql"

        target = tmp_path / "target"
        restored = run(target, "restore", str(backup), DATABASE_URL=target_url)

        assert "every SHA-256 matches" in restored
        assert media_hashes(target / "media") == media_hashes(source / "media")
        again = tmp_path / "again.zip"
        run(target, "backup", "-o", str(again), DATABASE_URL=target_url)
        assert manifest_of(again)["database"] == manifest["database"], "a record differs"
        refused = attrition(target, "restore", str(backup), DATABASE_URL=target_url)
        assert refused.returncode == 2
        assert "already holds data" in refused.stderr
        assert_custody_append_only(target_url)
        run(target, "createadmin", "--username", "frank", DATABASE_URL=target_url)


def assert_custody_append_only(url: str) -> None:
    """Check that the PostgreSQL database at `url` refuses changes to its custody log."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as db:
        assert db.execute("SELECT count(*) FROM evidence_custodyevent").fetchone()[0] >= 2
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append_only"):
            db.execute("UPDATE evidence_custodyevent SET action = 'viewed'")
        db.rollback()
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append_only"):
            db.execute("DELETE FROM evidence_custodyevent")
