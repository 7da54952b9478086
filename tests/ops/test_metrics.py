"""`/metrics`: Prometheus text with requests by status class, queue depth, failed jobs, bytes."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from attrition.capture import pipeline
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_upload
from attrition.evidence.services import evidence_create
from attrition.ops.requests import RequestCounts
from tests.capture.media import image_bytes

SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?P<labels>\{[^}]*\})? (?P<value>\S+)$")


def scrape(client: Client) -> dict[str, float]:
    """Return {"name{labels}": value} from /metrics, checking every line's form."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    values: dict[str, float] = {}
    typed: set[str] = set()
    for line in response.content.decode().splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, line
        assert match["name"] in typed, f"{match['name']} has no TYPE line"
        values[match["name"] + (match["labels"] or "")] = float(match["value"])
    return values


def test_it_counts_requests_by_status_class(anon_client: Client) -> None:
    before = scrape(anon_client)
    anon_client.get("/healthz")
    anon_client.get("/no-such-page/")
    after = scrape(anon_client)

    ok, missing = (
        'attrition_http_requests_total{status="2xx"}',
        ('attrition_http_requests_total{status="4xx"}'),
    )
    assert after[ok] - before[ok] >= 2  # /healthz and the first scrape
    assert after[missing] - before[missing] == 1
    assert 'attrition_http_requests_total{status="5xx"}' in after


def test_it_reports_jobs_and_stored_bytes(
    anon_client: Client, capture_storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = image_bytes("PNG", (64, 48), "green")
    done = capture_upload(fh=io.BytesIO(png), name="green.png", nudge=False)
    pipeline.job_run(done.pk)
    CaptureJob.objects.create(
        evidence=evidence_create(url="https://example.org/gone"),
        url="https://example.org/gone",
        state=CaptureJob.State.FAILED,
        next_attempt_at=timezone.now(),
        error_code="gone",
    )

    values = scrape(anon_client)

    assert values['attrition_capture_jobs{state="failed"}'] == 1
    assert values['attrition_capture_jobs{state="done"}'] == 1
    assert values['attrition_capture_jobs{state="queued"}'] == 0
    assert values["attrition_captures_stored"] == 1
    assert values["attrition_capture_bytes_stored"] == len(png)
    assert values["attrition_job_queue_depth"] >= 0


def test_it_requires_the_token_when_one_is_set(
    anon_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_METRICS_TOKEN", "scrape-secret")

    assert anon_client.get("/metrics").status_code == 401
    wrong = anon_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    right = anon_client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert right.status_code == 200


def test_it_adds_up_the_counts_of_every_web_process(tmp_path: Path) -> None:
    (tmp_path / "requests-999999.json").write_text(json.dumps({"2xx": 5, "5xx": 1}))
    (tmp_path / "requests-999998.json").write_text("not json")
    counts = RequestCounts(tmp_path)

    counts.add(200)
    counts.add(302)

    assert counts.totals() == {"1xx": 0, "2xx": 6, "3xx": 1, "4xx": 0, "5xx": 1}
    assert json.loads((tmp_path / f"requests-{os.getpid()}.json").read_text()) == {"2xx": 1}


def test_it_continues_the_counts_of_a_dead_process_with_the_same_pid(tmp_path: Path) -> None:
    (tmp_path / f"requests-{os.getpid()}.json").write_text(json.dumps({"2xx": 7}))
    counts = RequestCounts(tmp_path)

    counts.add(200)

    assert counts.totals()["2xx"] == 8
