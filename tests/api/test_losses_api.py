"""The losses API: writes attributed to the token's user and versioned, stale edits refused."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from attrition.accounts.models import Scope, User
from attrition.accounts.tokens import token_create
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from tests.ledger import Ledger


def call(client: Client, method: str, path: str, body: Any, key: str = "") -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return getattr(client, method)(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def new_loss(ledger: Ledger, **extra: Any) -> dict[str, Any]:
    return {
        "conflict": ledger.conflict.slug,
        "side": ledger.afghan.pk,
        "model": ledger.t62.pk,
        "fates": ["abandoned", "captured"],
        "captured_by": ledger.taliban.pk,
        "markings": "211",
        "tags": ["Kunduz"],
        **extra,
    }


def test_a_token_write_is_the_tokens_users_and_in_the_history(
    ledger: Ledger, contributor: User
) -> None:
    _, key = token_create(user=contributor, name="script", scope=Scope.WRITE)

    created = call(Client(), "post", "/api/v1/losses", new_loss(ledger, reason="from a post"), key)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["fate"], body["tags"]) == ("draft", "captured", ["Kunduz"])
    version = LossVersion.objects.get(record_id=body["id"])
    assert (version.changed_by, version.changed_via, version.change_reason) == (
        contributor,
        "api",
        "from a post",
    )


def test_a_read_token_cannot_write(ledger: Ledger, contributor: User) -> None:
    _, key = token_create(user=contributor, name="reader", scope=Scope.READ)

    refused = call(Client(), "post", "/api/v1/losses", new_loss(ledger), key)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert not Loss.objects.exists()


def test_a_stale_edit_is_refused_with_what_changed(
    ledger: Ledger, contributor: User, contributor_client: Client, reviewer_client: Client
) -> None:
    created = call(contributor_client, "post", "/api/v1/losses", new_loss(ledger), "").json()
    path = f"/api/v1/losses/{created['id']}"
    first = call(reviewer_client, "patch", path, {"revision": created["revision"], "unit": "20th"})

    stale = call(
        contributor_client, "patch", path, {"revision": created["revision"], "markings": "212"}
    )

    assert first.status_code == 200
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale_edit"
    assert {"field": "unit", "old": "", "new": "20th"} in error["details"]["changed"]
    assert Loss.objects.get(pk=created["id"]).markings == "211"


def test_it_walks_a_loss_through_review_and_enforces_four_eyes(
    ledger: Ledger, contributor_client: Client, reviewer_client: Client, anon_client: Client
) -> None:
    created = call(
        contributor_client, "post", "/api/v1/losses", new_loss(ledger, status="submitted"), ""
    ).json()
    path = f"/api/v1/losses/{created['id']}"

    own = call(contributor_client, "post", f"{path}/review", {"action": "verify"})
    hidden = anon_client.get(path)
    verified = call(reviewer_client, "post", f"{path}/review", {"action": "verify"})
    shown = anon_client.get(path)

    assert own.status_code == 403
    assert hidden.status_code == 404
    assert verified.json()["status"] == ReviewStatus.VERIFIED
    assert shown.status_code == 200
    assert shown.json()["markings"] == "211"


def test_verified_and_unknown_statuses_cannot_be_created(
    ledger: Ledger, contributor_client: Client
) -> None:
    refused = call(
        contributor_client, "post", "/api/v1/losses", new_loss(ledger, status="verified"), ""
    )
    unknown_side = call(
        contributor_client, "post", "/api/v1/losses", new_loss(ledger, side=999_999), ""
    )

    assert refused.status_code == 400
    assert "review action" in refused.json()["error"]["message"]
    assert unknown_side.status_code == 400
    assert not Loss.objects.exists()
