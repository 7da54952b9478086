"""schemathesis on the whole JSON API: every operation, as a reader and as each role's token.

The Django app is called in-process (WSGI), in the test's database transaction, so the
generated requests meet a real published ledger. Every answer must be no 5xx, match the
OpenAPI schema where the schema describes it, and every 4xx must be the one error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from attrition.accounts.models import User
from attrition.accounts.tokens import token_create
from attrition.wsgi import application
from tests.ledger import Ledger
from tests.site.published import published

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 5  # per operation and caller: ~650 requests in all
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def error_shape(response: Any) -> None:
    """Assert that a 4xx answer is the one error shape."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["message"], str)
        assert body["error"]["message"]


@pytest.fixture
def api_schema(settings: Any, ledger: Ledger, capture_storage: Path) -> Iterator[Any]:
    """Return the API's schema, loaded from the app itself, over a published ledger."""
    settings.API_ANON_RATE = settings.API_USER_RATE = "100000/min"
    published(ledger)
    # As Django's test client does: a request's end must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def headers_for(role: str, make: Callable[[str], User]) -> dict[str, str]:
    """Return the headers of a caller: a write token of the role's user, or nothing."""
    # The in-process client does not undo gzip, which the map's GeoJSON is sent in when asked.
    plain = {"Accept-Encoding": "identity"}
    if role == "anonymous":
        return plain
    _, key = token_create(user=make(role), name=f"{role}-fuzz", scope="write")
    return {**plain, "Authorization": f"Bearer {key}"}


def known_values(ledger: Ledger, path: str) -> dict[str, Any]:
    """Return path parameters that name real records, so that fuzzing reaches past the 404s."""
    from attrition.losses.models import Loss

    loss = Loss.objects.filter(status="verified").order_by("pk").first()
    values: dict[str, Any] = {
        "conflict": ledger.conflict.slug,
        "loss_id": loss.pk if loss else 1,
        "fmt": "csv",
        "code": "AF17",
        "job_id": 1,
        "slug": ledger.t62.slug if path.startswith("/api/v1/models") else ledger.conflict.slug,
    }
    return {name: value for name, value in values.items() if "{" + name + "}" in path}


def run_operation(operation: Any, *, headers: dict[str, str], known: dict[str, Any]) -> None:
    """Call one operation with generated valid and invalid requests; check every answer."""
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    if known:
        strategies.append(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known)
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    @given(case=st.one_of(*strategies))
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        error_shape(response)

    call()


@pytest.mark.parametrize("role", ["anonymous", "contributor", "reviewer", "admin"])
def test_it_answers_every_operation_without_a_server_error(
    api_schema: Any, ledger: Ledger, role: str, request: pytest.FixtureRequest
) -> None:
    fixture = {"contributor": "contributor", "reviewer": "reviewer", "admin": "admin_user"}
    headers = headers_for(role, lambda r: request.getfixturevalue(fixture[r]))
    operations = [op.ok() for op in api_schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        known = known_values(ledger, operation.path)
        run_operation(operation, headers=headers, known=known)
