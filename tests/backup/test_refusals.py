"""Corrupt or tampered backups, and instances that hold data, are refused: nothing half-restored."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backup.conftest import manifest_of, media_hashes, run, sqlite_counts
from tests.test_cli import attrition


@pytest.fixture(scope="module")
def pristine(sqlite_instance: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a directory backup of the shared instance (copy it before altering it)."""
    backup = tmp_path_factory.mktemp("pristine") / "backup"
    run(sqlite_instance, "backup", "-o", str(backup))
    return backup


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reseal(backup: Path) -> None:
    """Recompute every size and hash in the manifest, as a careful forger would."""
    manifest = manifest_of(backup)
    database = hashlib.sha256()
    for table in manifest["database"]["tables"]:
        path = backup / table["file"]
        table["bytes"] = path.stat().st_size
        table["sha256"] = sha256_of(path)
        table["rows"] = len(path.read_bytes().splitlines())
        database.update(f"{table['table']} {table['sha256']}\n".encode())
    manifest["database"]["sha256"] = database.hexdigest()
    manifest["database"]["rows"] = sum(t["rows"] for t in manifest["database"]["tables"])
    lines = []
    for line in (backup / "media.jsonl").read_text().splitlines():
        entry = json.loads(line)
        path = backup / "media" / entry["name"]
        entry["bytes"], entry["sha256"] = path.stat().st_size, sha256_of(path)
        lines.append(json.dumps(entry))
    (backup / "media.jsonl").write_text("".join(f"{line}\n" for line in lines))
    manifest["media"]["index_bytes"] = (backup / "media.jsonl").stat().st_size
    manifest["media"]["index_sha256"] = sha256_of(backup / "media.jsonl")
    (backup / "manifest.json").write_text(json.dumps(manifest))


def original_of(backup: Path) -> Path:
    return next((backup / "media" / "captures").rglob("*"))


def alter_media(backup: Path) -> None:
    with next(p for p in (backup / "media").rglob("*") if p.is_file()).open("r+b") as fh:
        first = fh.read(1)
        fh.seek(0)
        fh.write(bytes([first[0] ^ 1]))


def alter_row(backup: Path) -> None:
    path = backup / "database" / "losses_loss.jsonl"
    path.write_text(path.read_text().replace('"destroyed"', '"captured"', 1))


def alter_manifest_hash(backup: Path) -> None:
    manifest = manifest_of(backup)
    manifest["database"]["tables"][0]["sha256"] = "0" * 64
    (backup / "manifest.json").write_text(json.dumps(manifest))


def drop_a_table_file(backup: Path) -> None:
    (backup / "database" / "evidence_custodyevent.jsonl").unlink()


def add_a_file(backup: Path) -> None:
    (backup / "media" / "extra.txt").write_text("not from the instance")


def replace_an_original_coherently(backup: Path) -> None:
    original = next(p for p in (backup / "media" / "captures").rglob("*") if p.is_file())
    original.write_bytes(b"a forged photograph")
    reseal(backup)


def break_the_manifest(backup: Path) -> None:
    (backup / "manifest.json").write_text('{"format": "attrition-backup"')


def point_custody_at_a_missing_capture(backup: Path) -> None:
    """A row that breaks a foreign key, hashes and all resealed: fails only at commit."""
    path = backup / "database" / "evidence_custodyevent.jsonl"
    manifest = manifest_of(backup)
    columns = next(
        t["columns"]
        for t in manifest["database"]["tables"]
        if t["table"] == "evidence_custodyevent"
    )
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0][columns.index("capture_id")] = 999_999
    canonical = (
        json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for row in rows
    )
    path.write_text("".join(f"{line}\n" for line in canonical))
    reseal(backup)


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (alter_media, "has been altered or damaged"),
        (alter_row, "database/losses_loss.jsonl in the backup has been altered or damaged"),
        (alter_manifest_hash, "database SHA-256 does not match"),
        (drop_a_table_file, "has no file database/evidence_custodyevent.jsonl"),
        (add_a_file, "files its manifest does not list: media/extra.txt"),
        (replace_an_original_coherently, "not the one it is stored under"),
        (break_the_manifest, "manifest is not one attrition wrote"),
        (point_custody_at_a_missing_capture, "FOREIGN KEY constraint failed"),
    ],
)
def test_it_refuses_a_tampered_backup_and_restores_nothing(
    pristine: Path, tmp_path: Path, alter: Callable[[Path], None], message: str
) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(pristine, backup)
    alter(backup)
    target = tmp_path / "target"

    result = attrition(target, "restore", str(backup))

    assert result.returncode in {1, 2}, result
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    counts = sqlite_counts(target) if (target / "attrition.sqlite3").exists() else {}
    assert not {t: n for t, n in counts.items() if n and t != "django_migrations"}
    assert media_hashes(target / "media") == {}
    # The refused restore left an instance that a good backup restores into.
    run(target, "restore", str(pristine))


def test_it_refuses_a_truncated_zip(sqlite_instance: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.zip"
    run(sqlite_instance, "backup", "-o", str(backup))
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])

    result = attrition(tmp_path / "target", "restore", str(backup))

    assert result.returncode == 2
    assert "is not a readable zip file" in result.stderr


def test_it_refuses_an_instance_that_holds_data(
    sqlite_instance: Path, pristine: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    run(target, "migrate")
    run(target, "createadmin", "--username", "zoe")

    result = attrition(target, "restore", str(pristine))

    assert result.returncode == 2
    assert "the database already holds data (in accounts_user)" in result.stderr
    assert "restore only into an empty instance" in result.stderr


def test_it_refuses_an_instance_whose_media_is_not_empty(pristine: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    (target / "media" / "captures").mkdir(parents=True)
    (target / "media" / "captures" / "left-over").write_bytes(b"x")

    result = attrition(target, "restore", str(pristine))

    assert result.returncode == 2
    assert "the media storage already holds files (such as captures/left-over)" in result.stderr


def test_it_refuses_to_overwrite_an_existing_backup(sqlite_instance: Path, tmp_path: Path) -> None:
    existing = tmp_path / "b.zip"
    existing.write_bytes(b"keep me")

    result = attrition(sqlite_instance, "backup", "-o", str(existing))

    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert existing.read_bytes() == b"keep me"


def test_it_refuses_a_backup_from_a_newer_schema(pristine: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(pristine, backup)
    manifest = manifest_of(backup)
    manifest["migrations"].append(["losses", "9999_from_the_future"])
    (backup / "manifest.json").write_text(json.dumps(manifest))

    result = attrition(tmp_path / "target", "restore", str(backup))

    assert result.returncode == 2
    assert "made by a newer attrition" in result.stderr
