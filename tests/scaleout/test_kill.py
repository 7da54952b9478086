"""Scale-out under a killed worker: two web workers, three job workers, 500 captures, one SIGKILL.

PostgreSQL (a database of its own), Redis (the queue, under a name of its own), moto's S3 server
(the media) and a loopback HTTP server (the sources) are all real servers; gunicorn and the job
workers are real `attrition` processes. One job worker is killed with SIGKILL while it fetches;
its service manager starts it again (as systemd's Restart= does). Every capture must end done
exactly once, and the bucket must hold exactly the files the ledger records.
"""

from __future__ import annotations

import hashlib
import io
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from PIL import Image

from attrition.capture.steps import store
from attrition.losses.snapshots import DOWNLOADS, MANIFEST, snapshot_name
from tests.backup.conftest import pg_database
from tests.capture import clips
from tests.capture.test_worker_kill import Stall
from tests.loopback import Loopback, loopback_server, send
from tests.scaleout.stack import (
    BUCKET,
    S3_KEYS,
    TOKEN_CODE,
    Stack,
    api,
    free_port,
    redis_queue,
    s3_server,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db]

URLS = 500
BATCH = 50
STALLED = 7  # the index of the URL whose fetch stalls until its worker has been killed


def photos(n: int) -> list[bytes]:
    """Return n small, different photo-like JPEGs (different SHA-256 and PDQ hashes)."""
    out = []
    for seed in range(n):
        buf = io.BytesIO()
        Image.fromarray(clips.scene(seed, 96, 72)).save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


@pytest.fixture
def sources() -> Iterator[tuple[Loopback, list[str], list[bytes], Stall]]:
    """Serve the photos at /e/<n>.jpg on loopback; the STALLED one through a stalling route."""
    bodies = photos(URLS)
    with loopback_server(10_000_000) as server:
        urls = []
        stall = Stall(bodies[STALLED])
        for n, body in enumerate(bodies):
            path = f"/e/{n}.jpg"
            server.routes[path] = (
                stall
                if n == STALLED
                else (lambda h, body=body: send(h, body, content_type="image/jpeg"))
            )
            urls.append(server.url(path))
        yield server, urls, bodies, stall


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Return the settings of a scale-out set-up on fresh services; stop its processes after."""
    with (
        pg_database() as db_url,
        redis_queue() as (redis_url, name),
        s3_server(tmp_path / "s3.log") as s3_url,
    ):
        env = {
            "DATABASE_URL": db_url,
            "ATTRITION_QUEUE": redis_url,
            "ATTRITION_QUEUE_NAME": name,
            "ATTRITION_STORAGE": "s3",
            "ATTRITION_S3_BUCKET": BUCKET,
            "ATTRITION_S3_ENDPOINT_URL": s3_url,
            "ATTRITION_S3_ACCESS_KEY_ID": S3_KEYS["aws_access_key_id"],
            "ATTRITION_S3_SECRET_ACCESS_KEY": S3_KEYS["aws_secret_access_key"],
            "ATTRITION_S3_PREFIX": "media/",
            "ATTRITION_SECRET_KEY": "scale-out-test-" + "k" * 50,
            "ATTRITION_FETCH_ALLOW": "127.0.0.0/8",
            "ATTRITION_API_USER_RATE": "100000/min",
            "ATTRITION_WORKERS": "1",  # one job per process: the kill interrupts one fetch
            "ATTRITION_CAPTURE_LEASE_S": "3600",  # the dead worker's pid, not the lease
            "ATTRITION_LOG_LEVEL": "WARNING",
        }
        running = Stack(root=tmp_path, env=env)
        try:
            yield running
        finally:
            running.stop_all()


def db_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql).fetchall())


def test_it_captures_every_url_exactly_once_when_a_job_worker_is_killed(
    stack: Stack, sources: tuple[Loopback, list[str], list[bytes], Stall]
) -> None:
    _server, urls, bodies, stall = sources
    db = stack.env["DATABASE_URL"]
    stack.run("web", "migrate")
    token = stack.python("web", TOKEN_CODE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stack.start("web", "web", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2")
    workers = {
        "worker1": stack.start("worker1", "worker1", "worker", "--periodic"),
        "worker2": stack.start("worker2", "worker2", "worker", "--no-periodic"),
        "worker3": stack.start("worker3", "worker3", "worker", "--no-periodic"),
    }
    try:
        wait_for(lambda: healthy(base), within_s=30, what="the web workers to answer")

        submitted = []
        for start in range(0, URLS, BATCH):
            answer = api(base, "/api/v1/captures", token=token, body={"urls": urls[start:][:BATCH]})
            assert answer["refused"] == [], answer["refused"]
            submitted += [job["id"] for job in answer["jobs"]]
        assert len(set(submitted)) == URLS

        # The stalled fetch: find its worker and kill it with SIGKILL mid-download.
        assert stall.hit.wait(timeout=60), "no worker fetched the stalling URL"
        stalled_url = urls[STALLED]
        wait_for(
            lambda: (
                db_rows(db, f"SELECT state FROM capture_capturejob WHERE url = '{stalled_url}'")
                == [("running",)]
            ),
            within_s=10,
            what="the stalled job to be running",
        )
        [(holder,)] = db_rows(
            db, f"SELECT worker FROM capture_capturejob WHERE url = '{stalled_url}'"
        )
        pid = int(holder.rpartition(":")[2])
        [victim] = [name for name, proc in workers.items() if proc.pid == pid]
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait(timeout=10)
        assert workers[victim].returncode == -signal.SIGKILL
        [(state, attempts)] = db_rows(
            db, f"SELECT state, attempts FROM capture_capturejob WHERE url = '{stalled_url}'"
        )
        assert (state, attempts) == ("running", 1), "the killed worker's job must stay claimed"

        # Its service manager starts it again; it takes up the job its predecessor held.
        stall.fast.set()
        flags = "--periodic" if victim == "worker1" else "--no-periodic"
        workers[victim] = stack.start(f"{victim}-restarted", victim, "worker", flags)

        wait_for(
            lambda: (
                db_rows(
                    db, "SELECT count(*) FROM capture_capturejob WHERE state IN ('done', 'failed')"
                )
                == [(URLS,)]
            ),
            within_s=240,  # ~90 s on a quiet 2-core machine
            what="every capture job to end",
        )
        metrics = metrics_text(base)
    except BaseException:
        print(stack.logs())
        raise

    jobs = db_rows(db, "SELECT url, state, attempts, error_message FROM capture_capturejob")
    assert len(jobs) == URLS
    assert {state for _, state, _, _ in jobs} == {"done"}, [j for j in jobs if j[1] != "done"]
    attempts = {url: n for url, _, n, _ in jobs}
    assert attempts[stalled_url] == 2
    assert {n for url, n in attempts.items() if url != stalled_url} == {1}

    sha_of = {url: hashlib.sha256(body).hexdigest() for url, body in zip(urls, bodies, strict=True)}
    captures = db_rows(
        db,
        "SELECT j.url, c.sha256, c.storage_key, c.derivatives FROM capture_capturejob j "
        "JOIN evidence_custodyrecord r ON r.job_id = j.id "
        "JOIN evidence_capture c ON c.id = r.capture_id",
    )
    assert len(captures) == URLS, "one capture, and one custody record, per URL"
    assert {url: sha for url, sha, _, _ in captures} == sha_of
    assert db_rows(db, "SELECT count(*) FROM evidence_capture") == [(URLS,)]
    assert db_rows(db, "SELECT count(*) FROM evidence_evidence") == [(URLS,)]

    # The bucket holds exactly the originals and derivatives the ledger records, whole.
    expected = {f"media/{key}": sha for _, sha, key, _ in captures}
    derivatives = {f"media/{d['key']}" for *_, ds in captures for d in ds.values()}
    objects = bucket_objects(stack.env["ATTRITION_S3_ENDPOINT_URL"])
    # The periodic worker writes the open-data snapshot every ten minutes of the clock, so a run
    # that spans such a minute also finds those files: they are no capture's.
    snapshots = {key for key in objects if key.startswith("media/exports/")}
    assert snapshots <= {f"media/{snapshot_name(f)}" for f in DOWNLOADS} | {f"media/{MANIFEST}"}
    recorded = set(expected) | derivatives
    stored = set(objects) - snapshots
    assert sorted(stored - recorded) == [], "orphaned objects"
    assert sorted(recorded - stored) == [], "missing objects"
    md5_of = {hashlib.sha256(b).hexdigest(): hashlib.md5(b).hexdigest() for b in bodies}
    for key, sha in expected.items():
        assert key == f"media/{store.key_for(sha)}"
        assert objects[key] == md5_of[sha], f"{key} does not hold the bytes fetched"
    assert f"attrition_captures_stored {URLS}" in metrics


def healthy(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def metrics_text(base: str) -> str:
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        return str(response.read().decode())


def bucket_objects(endpoint: str) -> dict[str, str]:
    """Return {key: MD5 of its bytes (the ETag of a single-part upload)} of the whole bucket."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_KEYS)
    found: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["ETag"].strip('"')
    return found
