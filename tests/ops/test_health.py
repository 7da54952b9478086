"""`/healthz`: 200 with JSON when the database and the job queue answer, 503 when one does not."""

from __future__ import annotations

import pytest
from django.test import Client

from attrition.ops import selectors


def test_it_answers_ok_when_the_database_and_queue_answer(anon_client: Client) -> None:
    response = anon_client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("failing", ["database", "queue"])
def test_it_answers_503_naming_what_failed(
    anon_client: Client, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def down() -> None:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setitem(selectors.CHECKS, failing, down)

    response = anon_client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"][failing] == {
        "ok": False,
        "error": "ConnectionRefusedError",
        "ms": body["checks"][failing]["ms"],
    }
    assert "refused" not in response.content.decode(), "no error text leaks"


def test_it_refuses_other_methods(anon_client: Client) -> None:
    assert anon_client.post("/healthz").status_code == 405
