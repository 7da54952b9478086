"""Load on loopback: readers on public pages and the API while contributors write, workers capture.

Usage: python bench/load.py [--scenario embedded|scaleout|both] [--duration 30] [--connections 8]
                            [--writers 2] [--write-rate 5] [--pg postgres://postgres@127.0.0.1:5432/]
                            [--redis redis://127.0.0.1:6379/14]

Each scenario starts an instance of its own with the sample ledger, then for --duration seconds:
 - readers: wrk (Debian's `wrk`, --connections connections on 2 threads) cycling through public
   pages (home, conflict page, search) and API reads (losses, conflicts, stats);
 - contributors: --writers threads, each POSTing one capture URL with its own write token
   --write-rate times a second to /api/v1/captures (real writes: evidence, history, a job);
 - workers: capturing those URLs (photo-like JPEGs served on 127.0.0.1) meanwhile.

Scenarios:
 - embedded: `attrition up` (SQLite, 2 gunicorn processes, one job worker with 2 threads);
 - scaleout: `attrition serve --workers 2` + two `attrition worker` processes (1 thread each) on
   PostgreSQL (a new database, dropped afterwards), a Redis queue and moto's S3 server.

The API rate limits are lifted for the run (all load comes from one address). Prints a markdown
table: requests, errors (non-2xx/3xx answers and socket errors), p50/p99 of readers and writers,
and captures done. Everything shares this machine's cores with the load generator.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

BIN = Path(sys.executable).parent
ATTRITION = BIN / "attrition"
TOKEN_CODE = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "attrition.settings"
django.setup()
from attrition.accounts.models import Role, User
from attrition.accounts.tokens import token_create
for n in range({n}):
    user = User.objects.create_user(username=f"loadwriter{{n}}", role=Role.CONTRIBUTOR)
    print(token_create(user=user, name="load", scope="write")[1])
"""
WRK_SCRIPT = """
paths = {{{paths}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def photo(seed: int) -> bytes:
    """Return a small photo-like JPEG of its own (noise at two scales)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((160, 120))
    fine = rng.integers(-20, 20, (120, 160, 3))
    pixels = (np.asarray(coarse, dtype=np.int16) + fine).clip(0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


@contextmanager
def sources() -> Iterator[str]:
    """Serve /img/<n>.jpg, a different photo for each n, on loopback; yield the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            match = re.fullmatch(r"/img/(\d+)\.jpg", self.path)
            if not match:
                self.send_error(404)
                return
            body = photo(int(match[1]))
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Instance:
    """The attrition processes of one scenario, and what they share."""

    root: Path
    env: dict[str, str]
    base: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environ(self, machine: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
        keep.pop("DATABASE_URL", None)
        return {**keep, "ATTRITION_DATA_DIR": str(self.root / machine), **self.env}

    def run(self, machine: str, *argv: str) -> str:
        result = subprocess.run(
            argv, env=self.environ(machine), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:3])} failed:\n{result.stderr}")
        return result.stdout

    def start(self, machine: str, *args: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{machine}-{len(self.procs)}.log").open("ab") as log:
            self.procs.append(
                subprocess.Popen(
                    [str(ATTRITION), *args],
                    env=self.environ(machine),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def stop(self) -> None:
        for proc in self.procs:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def tokens(self, machine: str, n: int) -> list[str]:
        code = TOKEN_CODE.format(n=n)
        return self.run(machine, sys.executable, "-c", code).split()


def wait_healthy(base: str, within_s: float = 120) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with (
            suppress(OSError),
            urllib.request.urlopen(base + "/healthz", timeout=5) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"{base} did not become healthy in {within_s:.0f} s")


def common_env() -> dict[str, str]:
    return {
        "ATTRITION_API_ANON_RATE": "100000000/min",
        "ATTRITION_API_USER_RATE": "100000000/min",
        "ATTRITION_FETCH_ALLOW": "127.0.0.0/8",
        "ATTRITION_LOG_LEVEL": "WARNING",
        "ATTRITION_WEB_WORKERS": "2",
    }


@contextmanager
def embedded(root: Path) -> Iterator[Instance]:
    """`attrition up` on SQLite: two web processes and one job worker with two threads."""
    inst = Instance(root=root, env={**common_env(), "ATTRITION_WORKERS": "2"})
    port = free_port()
    inst.base = f"http://127.0.0.1:{port}"
    inst.start("embedded", "up", "--bind", f"127.0.0.1:{port}")
    try:
        wait_healthy(inst.base, within_s=300)
        yield inst
    finally:
        inst.stop()


@contextmanager
def scaleout(root: Path, *, pg: str, redis_url: str) -> Iterator[Instance]:
    """gunicorn + two job workers on PostgreSQL, a Redis queue and moto's S3 server."""
    import boto3
    import psycopg
    import redis

    name = f"attrition_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    s3_port = free_port()
    moto = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    s3 = f"http://127.0.0.1:{s3_port}"
    keys = {"aws_access_key_id": "load", "aws_secret_access_key": "load-secret"}
    with psycopg.connect(pg + "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    inst = Instance(
        root=root,
        env={
            **common_env(),
            "DATABASE_URL": pg + name,
            "ATTRITION_QUEUE": redis_url,
            "ATTRITION_QUEUE_NAME": name,
            "ATTRITION_STORAGE": "s3",
            "ATTRITION_S3_BUCKET": "load",
            "ATTRITION_S3_ENDPOINT_URL": s3,
            "ATTRITION_S3_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "ATTRITION_S3_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
            "ATTRITION_SECRET_KEY": "load-" + uuid.uuid4().hex * 2,
            "ATTRITION_WORKERS": "1",
        },
    )
    try:
        for _ in range(100):
            with suppress(Exception):
                boto3.client("s3", endpoint_url=s3, region_name="us-east-1", **keys).create_bucket(
                    Bucket="load"
                )
                break
            time.sleep(0.3)
        for command in ("migrate", "reference", "demo"):
            inst.run("web", str(ATTRITION), command)
        port = free_port()
        inst.base = f"http://127.0.0.1:{port}"
        inst.start("web", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2")
        inst.start("worker1", "worker", "--periodic")
        inst.start("worker2", "worker", "--no-periodic")
        wait_healthy(inst.base)
        yield inst
    finally:
        inst.stop()
        moto.terminate()
        moto.wait()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"huey.*{name}*"):
            client.delete(key)
        with psycopg.connect(pg + "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def read_paths(base: str) -> list[str]:
    """Return the public pages and API reads the readers cycle through; each must answer 200."""
    with urllib.request.urlopen(base + "/api/v1/conflicts", timeout=30) as response:
        body = json.loads(response.read())
    items = body["items"] if isinstance(body, dict) else body
    slug = items[0]["slug"]
    paths = [
        "/",
        f"/c/{slug}/",
        "/losses/",
        f"/c/{slug}/overview/",
        "/api/v1/losses?limit=50",
        "/api/v1/conflicts",
        f"/api/v1/stats?conflict={slug}",
    ]
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
    return paths


URLS_LOCK = threading.Lock()


@dataclass
class Writes:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def writer(
    base: str, token: str, urls: Iterator[str], rate: float, until: float, out: Writes
) -> None:
    """POST one capture URL at a time at `rate` a second until `until`."""
    next_at = time.monotonic()
    while time.monotonic() < until:
        with URLS_LOCK:
            url = next(urls)
        request = urllib.request.Request(
            base + "/api/v1/captures",
            data=json.dumps({"urls": [url]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                ok = response.status == 201
        except (urllib.error.URLError, OSError):
            ok = False
        out.latencies.append(time.monotonic() - started)
        out.errors += not ok
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))


def wrk_run(base: str, paths: list[str], *, duration: int, connections: int) -> dict[str, float]:
    """Run wrk against the paths; return requests, errors, p50 and p99 (ms)."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT.format(paths=", ".join(json.dumps(p) for p in paths)))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink()
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert m, out
        return float(m[1]) * units[m[2]]

    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx[1]) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"requests": requests, "errors": errors, "p50": pct("50"), "p99": pct("99")}


def captures_done(base: str) -> int:
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text = response.read().decode()
    m = re.search(r'^attrition_capture_jobs\{state="done"\} (\d+)', text, re.MULTILINE)
    return int(m[1]) if m else 0


def scenario(inst: Instance, source: str, args: argparse.Namespace, label: str) -> str:
    """Run readers and writers at once against an instance; return its markdown table row."""
    paths = read_paths(inst.base)
    tokens = inst.tokens("embedded" if label == "embedded" else "web", args.writers)
    counter = iter(range(10**9))
    urls = (f"{source}/img/{n}.jpg" for n in counter)
    done_before = captures_done(inst.base)
    writes = Writes()
    until = time.monotonic() + args.duration
    threads = [
        threading.Thread(
            target=writer, args=(inst.base, t, urls, args.write_rate, until, writes), daemon=True
        )
        for t in tokens
    ]
    for t in threads:
        t.start()
    reads = wrk_run(inst.base, paths, duration=args.duration, connections=args.connections)
    for t in threads:
        t.join()
    done = captures_done(inst.base) - done_before
    lat = sorted(writes.latencies)
    w50 = statistics.median(lat) * 1000 if lat else 0.0
    w99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
    read_rate = reads["requests"] / args.duration
    return (
        f"| {label} | {reads['requests']:,} ({read_rate:.0f}/s) | {reads['errors']:.0f} | "
        f"{reads['p50']:.0f} ms | {reads['p99']:.0f} ms | {len(lat)} | {writes.errors} | "
        f"{w50:.0f} ms | {w99:.0f} ms | {done} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["embedded", "scaleout", "both"], default="both")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--write-rate", type=float, default=5.0)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/load.py needs wrk: apt-get install wrk")
    rows = []
    with sources() as source, tempfile.TemporaryDirectory(prefix="attrition-load-") as tmp:
        if args.scenario in {"embedded", "both"}:
            print("embedded: attrition up (SQLite) ...", file=sys.stderr)
            with embedded(Path(tmp) / "embedded") as inst:
                rows.append(scenario(inst, source, args, "embedded"))
        if args.scenario in {"scaleout", "both"}:
            print("scale-out: serve + 2 workers (PostgreSQL, Redis, S3) ...", file=sys.stderr)
            with scaleout(Path(tmp) / "scaleout", pg=args.pg, redis_url=args.redis) as inst:
                rows.append(scenario(inst, source, args, "scale-out"))
    print(
        f"\n{args.duration} s, wrk -t2 -c{args.connections}, {args.writers} writers at "
        f"{args.write_rate:g}/s each, {os.cpu_count()} cores\n"
    )
    print(
        "| set-up | reads | read errors | read p50 | read p99 | writes | write errors | "
        "write p50 | write p99 | captures done |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
