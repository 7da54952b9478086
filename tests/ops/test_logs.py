"""Structured logs: with ATTRITION_LOG_FORMAT=json every line is one JSON object."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from attrition.ops.logs import JsonFormatter
from tests.test_settings import assert_fails, run_django

LOG = """
import logging, django
django.setup()
log = logging.getLogger("attrition.capture")
log.warning("capture %s stored", 12, extra={"job": 7, "url": "https://example.org/a"})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("step failed")
"""


def test_it_writes_one_json_object_per_line(tmp_path: Path) -> None:
    result = run_django(tmp_path / "data", LOG, ATTRITION_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    first, second = lines[-2:]
    assert first["level"] == "WARNING"
    assert first["logger"] == "attrition.capture"
    assert first["message"] == "capture 12 stored"
    assert (first["job"], first["url"]) == (7, "https://example.org/a")
    assert first["time"].endswith("+00:00")
    assert second["message"] == "step failed"
    assert "ZeroDivisionError" in second["exception"]


def test_it_writes_plain_lines_by_default(tmp_path: Path) -> None:
    result = run_django(tmp_path / "data", LOG)
    assert result.returncode == 0, result.stderr
    assert "WARNING attrition.capture: capture 12 stored" in result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_it_refuses_an_unknown_log_format(tmp_path: Path) -> None:
    assert_fails(run_django(tmp_path / "data", ATTRITION_LOG_FORMAT="xml"), "ATTRITION_LOG_FORMAT")


def test_it_keeps_a_value_json_cannot_hold_as_its_repr() -> None:
    record = logging.makeLogRecord({"msg": "hi", "levelname": "INFO", "thing": object()})
    out = json.loads(JsonFormatter().format(record))
    assert out["message"] == "hi"
    assert out["thing"].startswith("<object object at")
