"""Open-data snapshots: written by the job, served as downloads, refreshed only on change."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from django.test import Client
from huey.contrib.djhuey import HUEY

from attrition.jobs import enqueue
from attrition.losses.choices import ReviewStatus
from attrition.losses.services import loss_update
from attrition.losses.snapshots import snapshot_manifest, snapshot_refresh
from tests.ledger import Ledger


@pytest.fixture
def jobs_inline() -> Iterator[None]:
    """Run queued jobs at once in this process, as the worker would."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def test_the_download_is_queued_then_served(ledger: Ledger, media, jobs_inline) -> None:  # type: ignore[no-untyped-def]
    ledger.loss(fates=["captured"], markings="211", evidence=[ledger.evidence(1)])
    ledger.loss(status=ReviewStatus.SUBMITTED)  # not public: not exported
    reader = Client()

    first = reader.get("/data/losses.csv")  # nothing yet: queued (run inline here)
    assert first.status_code == 503
    assert first["Retry-After"] == "60"

    csv_response = reader.get("/data/losses.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert csv_response.status_code == 200
    assert [(r["model"], r["fate"], r["markings"]) for r in rows] == [
        ("T-62 (test)", "captured", "211")
    ]
    assert rows[0]["evidence_urls"] == "https://t.me/test_channel/1"

    json_response = reader.get("/data/losses.json")
    records = json.loads(b"".join(json_response.streaming_content))
    assert [r["evidence"][0]["url"] for r in records] == ["https://t.me/test_channel/1"]
    assert "losses.json" in reader.get("/data/").content.decode()


def test_a_snapshot_is_rewritten_only_when_the_public_ledger_changed(ledger: Ledger, media) -> None:  # type: ignore[no-untyped-def]
    loss = ledger.loss()
    assert snapshot_refresh() == {"csv": 1, "json": 1}
    assert snapshot_refresh() == {}

    loss_update(loss=loss, markings="A-12")

    assert snapshot_refresh() == {"csv": 1, "json": 1}
    manifest = snapshot_manifest()
    assert manifest is not None
    assert manifest["losses"] == 1


def test_an_unknown_job_or_format_is_an_error(ledger: Ledger, media) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError, match="no job named"):
        enqueue("losses.nothing")
    assert Client().get("/data/losses.xlsx").status_code == 404
