"""A job worker killed mid-capture: the next worker finishes the job once, leaving no orphan."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.capture import clips
from tests.loopback import Loopback, loopback_server
from tests.test_cli import ATTRITION, attrition, environ_for

pytestmark = pytest.mark.slow


def photo() -> bytes:
    out = io.BytesIO()
    clips.photo(5, (640, 480)).save(out, "JPEG", quality=85)
    return out.getvalue()


class Stall:
    """A route that sends half a photo and then waits, until told to answer at once."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.hit = threading.Event()
        self.fast = threading.Event()

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.send_header("Content-Length", str(len(self.body)))
        h.end_headers()
        if self.fast.is_set():
            h.wfile.write(self.body)
            return
        h.wfile.write(self.body[: len(self.body) // 2])
        h.wfile.flush()
        self.hit.set()
        self.fast.wait(timeout=60)  # the worker is killed while it waits here


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server(10_000_000) as running:
        yield running


def job_row(db: Path) -> tuple[str, int, str]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT state, attempts, worker FROM capture_capturejob").fetchone()
    return (str(row[0]), int(row[1]), str(row[2])) if row else ("none", 0, "")


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def wait_for(check: object, *, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_worker(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ATTRITION), "worker", "--workers", "1"],
        env=environ_for(data_dir, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_it_completes_a_capture_once_after_the_worker_is_killed(
    server: Loopback, tmp_path: Path
) -> None:
    body = photo()
    stall = Stall(body)
    server.routes["/stall.jpg"] = stall
    env = {
        "ATTRITION_FETCH_ALLOW": "127.0.0.0/8",
        "ATTRITION_CAPTURE_LEASE_S": "3600",  # the dead worker's pid, not the lease, frees it
    }
    assert attrition(tmp_path, "migrate").returncode == 0
    queued = attrition(tmp_path, "capture", server.url("/stall.jpg"), **env)
    assert queued.returncode == 0, queued.stderr
    db = tmp_path / "attrition.sqlite3"

    first = start_worker(tmp_path, env)
    try:
        assert stall.hit.wait(timeout=60), "the first worker never fetched"
        wait_for(lambda: job_row(db)[0] == "running", within_s=10, what="the job to run")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    state, attempts, held_by = job_row(db)
    assert (state, attempts) == ("running", 1)
    assert held_by.endswith(f":{first.pid}")
    left = [p for p in (tmp_path / "tmp").iterdir() if f"-{first.pid}-" in p.name]
    assert left, "the killed worker should have left its scratch directory"

    stall.fast.set()
    second = start_worker(tmp_path, env)
    try:
        wait_for(lambda: job_row(db)[0] == "done", within_s=60, what="the job to finish")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    state, attempts, _ = job_row(db)
    assert (state, attempts) == ("done", 2)
    assert count(db, "evidence_capture") == 1
    assert count(db, "evidence_custodyrecord") == 1
    assert count(db, "evidence_custodyevent") == 1
    media = tmp_path / "media"
    originals = [p for p in (media / "captures").rglob("*") if p.is_file()]
    sha = hashlib.sha256(body).hexdigest()
    assert [p.name for p in originals] == [sha]
    assert originals[0].read_bytes() == body
    assert not any((tmp_path / "tmp").iterdir()), "scratch space left behind"
