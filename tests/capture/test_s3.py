"""Captures on S3-compatible object storage: the same code path as the file system.

The server is moto's S3 server on loopback, a stand-in for MinIO, Garage or AWS: it speaks the
S3 protocol over real HTTP, so boto3 and django-storages run exactly as in production.
"""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from attrition import config
from attrition.capture import pipeline
from attrition.capture.services import capture_submit, capture_upload
from attrition.capture.steps import store
from attrition.evidence.bundle import bundle_verify, bundle_write
from attrition.evidence.models import Capture
from tests.capture.test_pipeline import photo_jpeg
from tests.loopback import Loopback, send

pytestmark = pytest.mark.django_db
BUCKET = "evidence"
KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the default storage at a fresh bucket on the S3 server; return a boto3 client."""
    env = {
        "ATTRITION_STORAGE": "s3",
        "ATTRITION_S3_BUCKET": BUCKET,
        "ATTRITION_S3_ENDPOINT_URL": s3_server,
        "ATTRITION_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "ATTRITION_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "ATTRITION_S3_PREFIX": "media/",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **KEYS)
    if any(b["Name"] == BUCKET for b in client.list_buckets()["Buckets"]):
        for key in keys(client):  # the server outlives each test: start from an empty bucket
            client.delete_object(Bucket=BUCKET, Key=key)
    else:
        client.create_bucket(Bucket=BUCKET)
    # Django drops its cached storages when the setting changes.
    settings.STORAGES = {**settings.STORAGES, "default": config.storage_options()}
    return client


def keys(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_it_stores_originals_content_addressed_in_the_bucket(s3: Any, tmp_path: Path) -> None:
    body = b"original bytes, kept as they came"
    sha = hashlib.sha256(body).hexdigest()
    path = tmp_path / "fetched.part"
    path.write_bytes(body)

    first = store.run(path=path, sha256=sha, size=len(body))
    again = store.run(path=path, sha256=sha, size=len(body))

    assert first.created
    assert not again.created
    assert keys(s3) == [f"media/{store.key_for(sha)}"]  # no temporary object left behind
    got = s3.get_object(Bucket=BUCKET, Key=f"media/{store.key_for(sha)}")["Body"].read()
    assert got == body


def test_it_runs_a_whole_capture_against_object_storage(
    s3: Any, media_server: Loopback, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ATTRITION_FETCH_MAX_BYTES", "5000000")
    body = photo_jpeg()
    media_server.routes["/photo.jpg"] = lambda h: send(h, body, content_type="image/jpeg")
    job = capture_submit(url=media_server.url("/photo.jpg"), nudge=False)
    assert pipeline.job_run(job.pk) == "done"

    capture = Capture.objects.get()
    stored = keys(s3)
    assert f"media/{capture.storage_key}" in stored
    for derivative in capture.derivatives.values():
        assert f"media/{derivative['key']}" in stored
    assert len(capture.pdq) == 64
    assert not any("incoming" in key for key in stored)

    out = tmp_path / "bundle.zip"
    bundle_write(evidence=job.evidence, out=out)
    assert bundle_verify(out).ok


def test_it_archives_an_upload_to_object_storage(s3: Any) -> None:
    job = capture_upload(fh=io.BytesIO(photo_jpeg()), name="photo.jpg", nudge=False)
    assert pipeline.job_run(job.pk) == "done"
    capture = Capture.objects.get()
    assert f"media/{capture.storage_key}" in keys(s3)


def test_it_refuses_object_storage_without_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_STORAGE", "s3")
    monkeypatch.delenv("ATTRITION_S3_BUCKET", raising=False)
    with pytest.raises(config.SettingError, match="needs ATTRITION_S3_BUCKET"):
        config.storage_options()
    monkeypatch.setenv("ATTRITION_S3_BUCKET", "b")
    monkeypatch.setenv("ATTRITION_S3_ACCESS_KEY_ID", "only-half")
    with pytest.raises(config.SettingError, match="or neither"):
        config.storage_options()
