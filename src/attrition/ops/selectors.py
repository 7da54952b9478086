"""Reads for operations: is the instance healthy, and its metrics in Prometheus' text format."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Count, Sum
from huey.contrib.djhuey import HUEY

from attrition.capture.models import CaptureJob
from attrition.evidence.models import Capture
from attrition.ops.requests import COUNTS


def database_ping() -> None:
    """Run one trivial query on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def queue_ping() -> None:
    """Ask the job queue how many jobs wait (reaches Redis, PostgreSQL or the SQLite file)."""
    HUEY.pending_count()


CHECKS: dict[str, Callable[[], None]] = {"database": database_ping, "queue": queue_ping}


def health() -> dict[str, Any]:
    """Return {"status": "ok"|"fail", "checks": {name: {"ok", "ms"[, "error"]}}}."""
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            checks[name] = {"ok": False, "error": type(exc).__name__}
        else:
            checks[name] = {"ok": True}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ok = all(c["ok"] for c in checks.values())
    return {"status": "ok" if ok else "fail", "checks": checks}


def metric(name: str, kind: str, help: str, samples: list[tuple[str, float]]) -> list[str]:
    """Return one metric's lines in Prometheus' text exposition format (version 0.0.4)."""
    lines = [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return lines


def metrics_text() -> str:
    """Return the instance's metrics in Prometheus' text exposition format."""
    requests = COUNTS.totals()
    states = dict(
        CaptureJob.objects.order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    stored = Capture.objects.aggregate(n=Count("pk"), bytes=Sum("size_bytes"))
    lines = [
        *metric(
            "attrition_http_requests_total",
            "counter",
            "HTTP requests answered by the web processes of this machine, by status class.",
            [(f'{{status="{name}"}}', n) for name, n in requests.items()],
        ),
        *metric(
            "attrition_job_queue_depth",
            "gauge",
            "Jobs waiting in the job queue.",
            [("", HUEY.pending_count())],
        ),
        *metric(
            "attrition_capture_jobs",
            "gauge",
            'Capture jobs by state; state="failed" are those that failed for good.',
            [(f'{{state="{s}"}}', states.get(s, 0)) for s in CaptureJob.State.values],
        ),
        *metric(
            "attrition_captures_stored",
            "gauge",
            "Archived captures (originals) recorded in the ledger.",
            [("", stored["n"] or 0)],
        ),
        *metric(
            "attrition_capture_bytes_stored",
            "gauge",
            "Bytes of the archived originals recorded in the ledger.",
            [("", stored["bytes"] or 0)],
        ),
    ]
    return "\n".join(lines) + "\n"
