"""The scale-out set-up, started for real: PostgreSQL, Redis, an S3 server, web and job workers.

Every service is a real server on loopback and every attrition process a real `attrition`
subprocess, each "machine" with its own data directory. The S3 server is moto's, a stand-in for
MinIO, Garage or AWS (none of those installs here): it speaks the S3 protocol over real HTTP, so
boto3 and django-storages run as in production.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import ATTRITION, environ_for

REDIS_URL = os.environ.get("ATTRITION_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
BUCKET = "evidence"
S3_KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_client() -> Any:
    """Return a client of the test Redis database; skip (fail on CI) when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise pytest.UsageError(f"CI has no Redis at {REDIS_URL}: .ci/run starts it") from exc
        pytest.skip(f"needs Redis at {REDIS_URL} (apt install redis-server): {exc}")
    return client


@contextmanager
def redis_queue() -> Iterator[tuple[str, str]]:
    """Yield (Redis URL, a queue name of its own); delete the queue's keys afterwards."""
    client = redis_client()
    name = f"scaleout_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        yield REDIS_URL, name
    finally:
        for key in client.scan_iter(match=f"huey.*{name}*", count=1000):
            client.delete(key)


@contextmanager
def s3_server(log: Path) -> Iterator[str]:
    """Run moto's S3 server in a process of its own on loopback; yield its URL."""
    import boto3

    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ATTRITION.with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **S3_KEYS)
        wait_for(lambda: answers(url), within_s=30, what="the S3 server to answer")
        client.create_bucket(Bucket=BUCKET)
        yield url
    finally:
        stop(proc, signal.SIGTERM)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], *, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {within_s:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen[bytes], signum: int, timeout: float = 30) -> None:
    """Signal a process group and wait for it; kill it if it does not stop in time."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Stack:
    """The attrition processes of a scale-out set-up and the settings they share."""

    root: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def data_dir(self, machine: str) -> Path:
        return self.root / machine

    def run(self, machine: str, *args: str) -> str:
        """Run an `attrition` command to its end on a machine; return its standard output."""
        result = subprocess.run(
            [str(ATTRITION), *args],
            env=environ_for(self.data_dir(machine), **self.env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def python(self, machine: str, code: str) -> str:
        """Run Python with Django set up as on a machine; return what it printed."""
        setup = "import django, os\nos.environ['DJANGO_SETTINGS_MODULE']='attrition.settings'\n"
        result = subprocess.run(
            [str(ATTRITION.with_name("python")), "-c", setup + "django.setup()\n" + code],
            env=environ_for(self.data_dir(machine), **self.env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def start(self, name: str, machine: str, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running `attrition` command on a machine, logging to <root>/<name>.log."""
        with (self.root / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [str(ATTRITION), *args],
                env=environ_for(self.data_dir(machine), **self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def logs(self) -> str:
        """Return the end of every process's log, for a failing test's report."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def stop_all(self) -> None:
        """Ask every process to stop at once (SIGTERM), then wait for each."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            stop(proc, signal.SIGTERM)


def api(
    base: str, path: str, *, token: str, body: object | None = None, timeout: float = 60
) -> Any:
    """Call the JSON API with a token; return the decoded answer."""
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


TOKEN_CODE = """
from attrition.accounts.models import Role, User
from attrition.accounts.tokens import token_create
user = User.objects.create_user(username="charlie", password="charlie-pw", role=Role.CONTRIBUTOR)
print(token_create(user=user, name="scale-out test", scope="write")[1])
"""
