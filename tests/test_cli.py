"""The `attrition` command, run as people run it: the installed entry point, in subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate

from attrition.cli import cli

ATTRITION = Path(sys.executable).with_name("attrition")
PASSWORD_LINE = re.compile(r"^attrition: one-time password: (\S+)$", re.MULTILINE)
COMMANDS = [
    "up",
    "worker",
    "migrate",
    "createadmin",
    "demo",
    "export",
    "count",
    "reference",
    "import",
    "capture",
    "bundle",
    "verify",
    "users",
    "territory",
    "linkrot",
    "dedup",
    "timeline",
    "estimate",
    "backup",
    "restore",
    "migrate-to",
    "serve",
    "scale-out",
    "sync",
    "import-mapping",
    "tally",
    "claims",
]


def environ_for(data_dir: Path, **env: str) -> dict[str, str]:
    """Return this process's environment with only the given attrition settings."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ATTRITION_")
        and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environ.update(ATTRITION_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **env)
    return environ


def attrition(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `attrition` command and return what it did."""
    return subprocess.run(
        [str(ATTRITION), *args],
        env=environ_for(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def password_of(output: str) -> str:
    """Return the one-time password printed in `output`."""
    match = PASSWORD_LINE.search(output)
    assert match, output
    return match.group(1)


def check_password(data_dir: Path, username: str, password: str) -> bool:
    """Return whether Django authenticates `username` with `password` on that data directory."""
    code = (
        "import django; django.setup(); from django.contrib.auth import authenticate; "
        f"print(authenticate(username={username!r}, password={password!r}) is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environ_for(data_dir, DJANGO_SETTINGS_MODULE="attrition.settings"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip() == "True"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data directory whose SQLite database has been migrated by `attrition migrate`."""
    data_dir = tmp_path_factory.mktemp("migrated")
    result = attrition(data_dir, "migrate")
    assert result.returncode == 0, result.stderr
    return data_dir


def test_it_shows_help_for_the_group_and_every_command(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = attrition(data_dir, "--help")
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert re.search(rf"^  {command} ", result.stdout, re.MULTILINE), command
    for command in COMMANDS:
        result = attrition(data_dir, command, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Usage: attrition {command} [OPTIONS]")
    assert not data_dir.exists(), "--help must not set anything up"


def test_it_lists_every_command_in_the_group() -> None:
    assert sorted(cli.commands) == sorted(COMMANDS)


def test_it_migrates_a_fresh_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    result = attrition(data_dir, "migrate")
    assert result.returncode == 0, result.stderr
    assert f"attrition: database: SQLite at {data_dir / 'attrition.sqlite3'}" in result.stdout
    assert "Applying accounts.0001_initial... OK" in result.stdout
    again = attrition(data_dir, "migrate")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply." in again.stdout


def test_it_creates_an_admin_whose_password_works_and_differs_each_time(migrated: Path) -> None:
    first = attrition(migrated, "createadmin", "--username", "erin", "--email", "erin@example.org")
    second = attrition(migrated, "createadmin", "--username", "frank")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    erin, frank = password_of(first.stdout), password_of(second.stdout)
    assert erin != frank
    assert len(erin) >= 16
    assert check_password(migrated, "erin", erin)
    assert not check_password(migrated, "erin", frank)


def test_it_refuses_an_existing_username(migrated: Path) -> None:
    first = attrition(migrated, "createadmin", "--username", "grace")
    again = attrition(migrated, "createadmin", "--username", "grace")
    assert first.returncode == 0, first.stderr
    assert again.returncode == 2
    assert again.stderr == (
        "attrition: a user named 'grace' already exists: choose another username\n"
    )
    assert "one-time password" not in again.stdout
    assert check_password(migrated, "grace", password_of(first.stdout))


def test_it_reports_a_missing_schema_in_one_line(tmp_path: Path) -> None:
    result = attrition(tmp_path, "createadmin")
    assert result.returncode == 1
    assert result.stderr.startswith("attrition: database error: no such table")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--format", "xml"], "Invalid value for '--format'"),
        (["up", "--bind", "nowhere"], "--bind 'nowhere' is not HOST:PORT"),
        (["up", "--bind", "127.0.0.1:99999"], "is not HOST:PORT"),
        (["worker", "--workers", "0"], "Invalid value for '--workers'"),
        (["createadmin", "--username", "two words"], "username 'two words' is not valid"),
        (["export", "--output", "/no/such/dir/losses.csv"], "does not exist"),
        (["nonsense"], "No such command 'nonsense'"),
        (["count", "nowhere-2021"], "no conflict 'nowhere-2021'"),
        (["count", "x", "--fate", "sunk"], "Invalid value for '--fate'"),
        (["count", "x", "--as-of", "yesterday"], "Invalid value for '--as-of'"),
    ],
)
def test_it_refuses_bad_input_in_one_line(migrated: Path, args: list[str], message: str) -> None:
    before = (migrated / "attrition.sqlite3").stat().st_mtime_ns
    result = attrition(migrated, *args)
    assert result.returncode == 2, result
    assert result.stderr.startswith("attrition: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert (migrated / "attrition.sqlite3").stat().st_mtime_ns == before


def test_it_refuses_a_port_in_use(migrated: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = attrition(migrated, "up", "--bind", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert "Address already in use" in result.stderr
    assert "one-time password" not in result.stdout


def test_it_creates_an_admin_in_process(db: None) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["createadmin", "--username", "heidi"])
    second = runner.invoke(cli, ["createadmin", "--username", "ivan"])
    assert first.exit_code == 0, first.output
    heidi = authenticate(username="heidi", password=password_of(first.output))
    assert heidi is not None
    assert (heidi.role, heidi.is_staff, heidi.is_superuser) == ("admin", True, True)
    assert password_of(first.output) != password_of(second.output)


def test_it_exports_to_a_file_only_when_complete(db: None, tmp_path: Path) -> None:
    target = tmp_path / "losses.json"
    result = CliRunner().invoke(cli, ["export", "--format", "json", "--output", str(target)])
    assert result.exit_code == 0, result.output
    json.loads(target.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["losses.json"]


@pytest.mark.postgres
def test_it_migrates_and_creates_an_admin_on_postgresql(tmp_path: Path) -> None:
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    name = f"attrition_cli_{os.getpid()}"
    server = {
        "host": db["HOST"] or "localhost",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = quote(server["user"] or "") + (
            f":{quote(server['password'])}" if db["PASSWORD"] else ""
        )
        url = f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
        migrated = attrition(tmp_path, "migrate", DATABASE_URL=url)
        assert migrated.returncode == 0, migrated.stderr
        assert f"attrition: database: PostgreSQL {name} on" in migrated.stdout
        created = attrition(tmp_path, "createadmin", "--username", "judy", DATABASE_URL=url)
        assert created.returncode == 0, created.stderr
        again = attrition(tmp_path, "createadmin", "--username", "judy", DATABASE_URL=url)
        assert again.returncode == 2
        assert "already exists" in again.stderr
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- attrition up, end to end -------------------------------------------------------------------


class Running:
    """An `attrition up` process whose merged output is collected line by line."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.port = port
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [str(ATTRITION), "up", "--no-demo", "--bind", f"127.0.0.1:{port}"],
            env=environ_for(data_dir, ATTRITION_WEB_WORKERS="1", ATTRITION_WORKERS="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so that cleanup can end the whole group
        )
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        """Collect the output until the process closes it."""
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """Return everything printed so far."""
        return "\n".join(self.lines)

    def wait_until_serving(self, timeout: float = 180) -> None:
        """Return once the port accepts connections; fail if the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"attrition up exited with {self.proc.returncode}:\n{self.output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"attrition up did not serve within {timeout} s:\n{self.output}")

    def pid_of(self, what: str) -> int:
        """Return the pid that `up` printed for the job worker or the web server."""
        match = re.search(rf"^attrition: {what} started \(pid (\d+)", self.output, re.MULTILINE)
        assert match, self.output
        return int(match.group(1))

    def stop(self) -> int:
        """Send SIGTERM and return the exit status; fail unless it exits within 15 s."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"attrition up did not stop within 15 s:\n{self.output}")
        self.reader.join(timeout=5)
        return status

    def kill(self) -> None:
        """End the whole process group if it is still there (cleanup after a failure)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.reader.join(timeout=5)


@pytest.fixture
def run_up(tmp_path: Path) -> Iterator[list[Running]]:
    """Collect the `attrition up` processes a test starts and end them whatever happens."""
    started: list[Running] = []
    yield started
    for running in started:
        running.kill()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    """Return whether the process exists and has not exited (a zombie counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def admins_in(data_dir: Path) -> int:
    """Return how many admin accounts the SQLite database in data_dir holds."""
    with sqlite3.connect(data_dir / "attrition.sqlite3") as conn:
        return int(
            conn.execute("SELECT count(*) FROM accounts_user WHERE role='admin'").fetchone()[0]
        )


@pytest.mark.slow
def test_it_serves_with_a_worker_and_stops_cleanly_and_keeps_data(
    tmp_path: Path, run_up: list[Running]
) -> None:
    data_dir = tmp_path / "instance"
    first = Running(data_dir, free_port())
    run_up.append(first)
    first.wait_until_serving()
    with urllib.request.urlopen(f"http://127.0.0.1:{first.port}/", timeout=30) as response:
        assert response.status == 200
    page_url = f"http://127.0.0.1:{first.port}/c/afghanistan-2021/"
    with urllib.request.urlopen(page_url, timeout=30) as response:
        page = response.read().decode()
    assert "<strong>Afghan forces: 0</strong>, of which destroyed: 0" in page
    # up queues the open-data snapshot; the worker beside the web server writes it.
    assert download_ready(f"http://127.0.0.1:{first.port}/data/losses.csv", within_s=30)
    worker, web = first.pid_of("job worker"), first.pid_of("web server")
    assert alive(worker)
    assert alive(web)
    password = password_of(first.output)
    assert first.stop() == 0, first.output
    assert not alive(worker)
    assert not alive(web)

    second = Running(data_dir, free_port())
    run_up.append(second)
    second.wait_until_serving()
    assert "one-time password" not in second.output
    assert "attrition: an admin account exists" in second.output
    assert second.stop() == 0, second.output
    assert admins_in(data_dir) == 1
    assert check_password(data_dir, "admin", password)


def download_ready(url: str, *, within_s: float) -> bool:
    """Return whether `url` answers 200 (not 503 "being prepared") within the time given."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                raise
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_it_stops_everything_when_the_worker_dies(tmp_path: Path, run_up: list[Running]) -> None:
    running = Running(tmp_path / "instance", free_port())
    run_up.append(running)
    running.wait_until_serving()
    worker, web = running.pid_of("job worker"), running.pid_of("web server")
    os.kill(worker, signal.SIGKILL)
    try:
        status = running.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"attrition up went on without its worker:\n{running.output}")
    running.reader.join(timeout=5)
    assert status == 1
    assert "attrition: the job worker was killed by SIGKILL: stopping everything" in running.output
    assert not alive(web)


def test_it_counts_by_the_rule_given(db: None) -> None:
    from tests.ledger import ledger_small

    ledger = ledger_small()
    ledger.loss(fates=["captured"])
    ledger.loss(model=ledger.ranger, fates=["destroyed"])
    ledger.loss(side=ledger.taliban, fates=["destroyed"])
    runner = CliRunner()

    everything = runner.invoke(cli, ["count", "test-war"])
    trucks = runner.invoke(
        cli, ["count", "test-war", "--side", "andsf", "--category", "test-trucks"]
    )
    unknown = runner.invoke(cli, ["count", "test-war", "--category", "boats"])

    assert everything.exit_code == 0, everything.output
    assert everything.output.splitlines() == [
        "Afghan forces: 2, of which destroyed: 1, damaged: 0, abandoned: 0, captured: 1",
        "Taliban: 1, of which destroyed: 1, damaged: 0, abandoned: 0, captured: 0",
        "total: 3",
    ]
    assert trucks.output.splitlines()[-1] == "total: 1"
    assert unknown.exit_code == 2
    assert "unknown category 'boats'" in unknown.output
