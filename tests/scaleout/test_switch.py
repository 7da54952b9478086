"""`attrition scale-out`: an embedded instance moves to PostgreSQL, Redis and S3 in one command."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg
import pytest

from tests.backup.conftest import media_hashes, pg_database
from tests.capture.media import image_bytes
from tests.scaleout.stack import (
    BUCKET,
    S3_KEYS,
    Stack,
    free_port,
    redis_queue,
    s3_server,
    wait_for,
)
from tests.scaleout.test_kill import healthy, metrics_text
from tests.test_cli import attrition


@pytest.fixture
def target(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Return the settings of empty scale-out services: PostgreSQL, Redis and an S3 bucket."""
    with (
        pg_database() as db_url,
        redis_queue() as (redis_url, name),
        s3_server(tmp_path / "s3.log") as s3_url,
    ):
        yield {
            "DATABASE_URL": db_url,
            "ATTRITION_QUEUE": redis_url,
            "ATTRITION_QUEUE_NAME": name,
            "ATTRITION_STORAGE": "s3",
            "ATTRITION_S3_BUCKET": BUCKET,
            "ATTRITION_S3_ENDPOINT_URL": s3_url,
            "ATTRITION_S3_ACCESS_KEY_ID": S3_KEYS["aws_access_key_id"],
            "ATTRITION_S3_SECRET_ACCESS_KEY": S3_KEYS["aws_secret_access_key"],
            "ATTRITION_S3_PREFIX": "media/",
        }


def settings_file(path: Path, env: dict[str, str], *extra: str) -> Path:
    lines = ["# the scale-out services", *(f"{k}={v}" for k, v in env.items()), *extra]
    path.write_text("\n".join(lines) + "\n")
    return path


def bucket_hashes(env: dict[str, str]) -> dict[str, str]:
    """Return {name under the prefix: SHA-256} of every object in the bucket."""
    client = boto3.client(
        "s3", endpoint_url=env["ATTRITION_S3_ENDPOINT_URL"], region_name="us-east-1", **S3_KEYS
    )
    found = {}
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        found[obj["Key"].removeprefix("media/")] = hashlib.sha256(body).hexdigest()
    return found


def embedded_instance(data_dir: Path, tmp: Path) -> None:
    """Make an embedded instance with a schema, two archived uploads and an admin."""
    uploads = []
    for color in ("red", "blue"):
        path = tmp / f"{color}.png"
        path.write_bytes(image_bytes("PNG", (80, 60), color))
        uploads += ["--upload", str(path)]
    for args in (["migrate"], ["capture", "--run", *uploads], ["createadmin"]):
        result = attrition(data_dir, *args)
        assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db
def test_it_moves_the_database_and_media_and_serves_from_them(
    target: dict[str, str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "embedded"
    embedded_instance(data_dir, tmp_path)
    media = media_hashes(data_dir / "media")
    with sqlite3.connect(data_dir / "attrition.sqlite3") as db:
        captures = db.execute("SELECT count(*) FROM evidence_capture").fetchone()[0]
    assert captures == 2
    file = settings_file(tmp_path / "attrition.env", target)

    result = attrition(data_dir, "scale-out", str(file))

    assert result.returncode == 0, result.stderr
    assert f"copied {len(media)} media files" in result.stdout
    assert bucket_hashes(target) == media
    with psycopg.connect(target["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM evidence_capture").fetchone() == (captures,)
    assert media_hashes(data_dir / "media") == media, "the embedded instance is left as it was"

    # The services run on the moved data, from a new machine's data directory.
    stack = Stack(root=tmp_path, env=target)
    port = free_port()
    stack.start("web", "web", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1")
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), within_s=30, what="the web server")
        assert "attrition_captures_stored 2" in metrics_text(f"http://127.0.0.1:{port}")
    finally:
        stack.stop_all()

    again = attrition(data_dir, "scale-out", str(file))
    assert again.returncode == 2
    assert "already holds data" in again.stderr
    assert bucket_hashes(target) == media


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("ATTRITION_S3_BUKET=evidence", "settings that do not exist: ATTRITION_S3_BUKET"),
        ("ATTRITION_QUEUE=sqlite", "keeps the queue on one machine"),
        ("ATTRITION_QUEUE=amqp://broker", "is not a queue"),
        ("DATABASE_URL=sqlite:///x.sqlite3", "moves the database to PostgreSQL"),
        ("just words", "line 4: not NAME=value"),
    ],
)
def test_it_refuses_a_bad_settings_file_before_touching_anything(
    tmp_path: Path, line: str, error: str
) -> None:
    env = {"DATABASE_URL": "postgres://nobody@127.0.0.1:9/none", "ATTRITION_QUEUE": "redis://x"}
    file = settings_file(tmp_path / "attrition.env", env, line)

    result = attrition(tmp_path / "embedded", "scale-out", str(file))

    assert result.returncode == 2, result.stderr
    assert error in result.stderr
