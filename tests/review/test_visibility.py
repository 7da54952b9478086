"""Readers see verified records only, on every surface that exists: pages, API, exports, counts."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from attrition.accounts.models import User
from attrition.losses.choices import ReviewStatus
from attrition.losses.exports import export_losses
from attrition.losses.models import Loss
from attrition.losses.services import loss_delete, loss_merge
from attrition.losses.snapshots import snapshot_refresh
from tests.ledger import Ledger

S = ReviewStatus


@pytest.fixture
def mixed(ledger: Ledger, reviewer: User) -> dict[str, Loss]:
    """Return one loss in each state a reader must not see, and one verified loss."""
    losses = {
        status: ledger.loss(status=status, markings=f"m-{status}")
        for status in (S.DRAFT, S.SUBMITTED, S.NEEDS_CHANGES, S.REJECTED, S.VERIFIED)
    }
    losses["deleted"] = ledger.loss(status=S.VERIFIED, markings="m-deleted")
    loss_delete(loss=losses["deleted"], by=reviewer, reason="duplicate entry")
    losses["merged"] = ledger.loss(status=S.VERIFIED, markings="m-merged")
    loss_merge(loss=losses["merged"], into=losses[S.VERIFIED], by=reviewer)
    return losses


def test_readers_open_only_the_verified_loss(mixed: dict[str, Loss], anon_client: Client) -> None:
    for name, loss in mixed.items():
        page = anon_client.get(f"/losses/{loss.pk}/")
        api = anon_client.get(f"/api/v1/losses/{loss.pk}")
        if name == S.VERIFIED:
            assert (page.status_code, api.status_code) == (200, 200)
            assert api.json()["markings"] == "m-verified"
        elif name == "merged":  # a merged loss sends readers on to the one it was merged into
            assert page.status_code == 301
            assert api.status_code == 404
        else:
            assert (page.status_code, api.status_code) == (404, 404), name
            assert api.json()["error"]["code"] == "not_found"


def test_public_exports_and_counts_hold_verified_losses_only(
    mixed: dict[str, Loss], anon_client: Client, ledger: Ledger
) -> None:
    buffer = io.StringIO()
    export_losses(fmt="json", out=buffer)
    snapshot_refresh(force=True)
    download = anon_client.get("/data/losses.json")
    conflict = anon_client.get(f"/c/{ledger.conflict.slug}/")

    assert [row["markings"] for row in json.loads(buffer.getvalue())] == ["m-verified"]
    rows = json.loads(b"".join(download.streaming_content))
    assert [row["markings"] for row in rows] == ["m-verified"]
    text = conflict.content.decode()
    assert "m-draft" not in text
    assert conflict.context["ledger"].tally.total == 1


def test_a_conflict_that_is_not_public_shows_nothing_to_readers(
    mixed: dict[str, Loss], anon_client: Client, reviewer_client: Client, ledger: Ledger
) -> None:
    ledger.conflict.is_public = False
    ledger.conflict.save()
    verified = mixed[S.VERIFIED]

    assert anon_client.get(f"/losses/{verified.pk}/").status_code == 404
    assert anon_client.get(f"/api/v1/losses/{verified.pk}").status_code == 404
    assert reviewer_client.get(f"/api/v1/losses/{verified.pk}").status_code == 200
    assert export_losses(fmt="csv", out=io.StringIO()) == 0
