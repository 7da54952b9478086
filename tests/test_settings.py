"""Settings fail loudly on bad values and change nothing; the defaults are what the design says."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SETUP = "import django; django.setup()"


def run_django(data_dir: Path, code: str = SETUP, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh Python with Django set up from the given environment."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ATTRITION_") and key != "DATABASE_URL"
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="attrition.settings", ATTRITION_DATA_DIR=str(data_dir), **env
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_fails(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Assert that the run failed with a settings error whose message holds every word."""
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line or "SettingError" in last_line, result.stderr
    for word in words:
        assert word in last_line, last_line


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@localhost/attrition", ["DATABASE_URL", "is not supported", "postgres://"]),
        ("garbage", ["DATABASE_URL='garbage'", "is not supported"]),
        ("sqlite://", ["names no SQLite file"]),
        ("sqlite:///", ["names no SQLite file"]),
        ("postgres://localhost", ["names no database"]),
    ],
)
def test_it_refuses_a_bad_database_url(tmp_path: Path, url: str, words: list[str]) -> None:
    data_dir = tmp_path / "data"
    assert_fails(run_django(data_dir, DATABASE_URL=url), *words)
    assert not data_dir.exists()


def test_it_refuses_a_data_dir_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = run_django(blocker / "sub")
    assert_fails(result, "ATTRITION_DATA_DIR", "is not a writable directory")
    assert blocker.read_text() == "not a directory\n"


def test_it_refuses_a_bad_boolean(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert_fails(run_django(data_dir, ATTRITION_DEBUG="maybe"), "ATTRITION_DEBUG", "boolean")
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("ATTRITION_WORKERS", "two", ["is not a whole number"]),
        ("ATTRITION_WEB_WORKERS", "0", ["must be 1 or more"]),
        ("ATTRITION_DB_POOL_MAX", "ten", ["is not a whole number"]),
        ("ATTRITION_SQLITE_BUSY_TIMEOUT_MS", "1.5", ["is not a whole number"]),
    ],
)
def test_it_refuses_a_bad_number(tmp_path: Path, name: str, value: str, words: list[str]) -> None:
    data_dir = tmp_path / "data"
    assert_fails(run_django(data_dir, **{name: value}), name, *words)
    assert not data_dir.exists()


def test_it_refuses_a_bad_log_level(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert_fails(run_django(data_dir, ATTRITION_LOG_LEVEL="LOUD"), "ATTRITION_LOG_LEVEL")
    assert not data_dir.exists()


def test_it_says_attrition_and_the_message_without_a_traceback(tmp_path: Path) -> None:
    attrition = Path(sys.executable).with_name("attrition")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    environ.update(ATTRITION_DATA_DIR=str(tmp_path / "data"), ATTRITION_DEBUG="maybe")
    result = subprocess.run(
        [str(attrition), "migrate"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("attrition: ATTRITION_DEBUG='maybe' is not a boolean")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_it_generates_the_secret_key_once_and_keeps_it_private(tmp_path: Path) -> None:
    code = SETUP + "; from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_django(tmp_path, code)
    second = run_django(tmp_path, code)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert first.stdout.strip() == key
    assert second.stdout.strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_it_takes_the_secret_key_from_the_environment(tmp_path: Path) -> None:
    code = SETUP + "; from django.conf import settings; print(settings.SECRET_KEY)"
    key = "k3y-Of-this-instance-" * 3
    result = run_django(tmp_path, code, ATTRITION_SECRET_KEY=key)
    assert result.stdout.strip() == key
    assert not (tmp_path / "secret_key").exists()


SQLITE_PROBE = """
import json, sqlite3
import django
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy_timeout = cursor.fetchone()[0]
other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
with transaction.atomic():
    # No write yet: only BEGIN IMMEDIATE already holds the write lock here.
    try:
        other.execute("BEGIN IMMEDIATE")
        locked = False
    except sqlite3.OperationalError as exc:
        locked = "locked" in str(exc)
print(json.dumps({"journal_mode": journal_mode, "busy_timeout": busy_timeout, "locked": locked}))
"""


def test_it_runs_sqlite_in_wal_mode_with_immediate_transactions(tmp_path: Path) -> None:
    result = run_django(tmp_path, SQLITE_PROBE, ATTRITION_SQLITE_BUSY_TIMEOUT_MS="4321")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe == {"journal_mode": "wal", "busy_timeout": 4321, "locked": True}
