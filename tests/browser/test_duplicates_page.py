"""The reviewer's side-by-side duplicate page, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attrition.accounts.models import User
from attrition.dedup.decisions import pair_key
from attrition.dedup.models import LossCandidate
from tests.ledger import ledger_small

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_a_pair_side_by_side_and_decides_from_the_keyboard(
    page_as: Callable[[Any], Any], live_server: Any, reviewer: User, tmp_path: Path
) -> None:
    ledger = ledger_small()
    a = ledger.loss(markings="<i>211</i>", evidence=[ledger.evidence(1)])
    b = ledger.loss(markings="211", evidence=[ledger.evidence(2)])
    x, y = pair_key(a, b)
    pair = LossCandidate.objects.create(
        loss_a_id=x,
        loss_b_id=y,
        score=0.93,
        verdict="likely same",
        signals=[
            {"name": "markings", "value": "<i>211</i> vs 211", "weight": 4, "contribution": 4}
        ],
    )
    page = page_as(reviewer)
    page.goto(f"{live_server.url}/review/duplicates/{pair.pk}/")

    sides = page.locator("section.pair-side")
    assert sides.count() == 2
    left, right = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert left["x"] + left["width"] <= right["x"]  # side by side, not stacked
    assert abs(left["y"] - right["y"]) < 2
    assert "t.me/test_channel/1" in sides.nth(0).inner_text()
    assert "t.me/test_channel/2" in sides.nth(1).inner_text()
    # Hostile text is shown as text, never as markup.
    assert page.locator("section.pair-side i").count() == 0
    assert "<i>211</i>" in page.locator("table.signals").inner_text()
    page.screenshot(path=str(tmp_path / "duplicates.png"), full_page=True)

    page.keyboard.press("n")
    page.wait_for_url(f"{live_server.url}/review/duplicates/")
    pair.refresh_from_db()
    assert pair.status == LossCandidate.Status.NOT_DUPLICATE
    assert pair.decided_by == reviewer


def test_it_keeps_typing_in_the_reason_field_from_deciding(
    page_as: Callable[[Any], Any], live_server: Any, reviewer: User
) -> None:
    ledger = ledger_small()
    x, y = pair_key(ledger.loss(), ledger.loss())
    pair = LossCandidate.objects.create(loss_a_id=x, loss_b_id=y, score=0.5, verdict="possible")
    page = page_as(reviewer)
    page.goto(f"{live_server.url}/review/duplicates/{pair.pk}/")
    page.fill("input[name=reason]", "damn, not merged")  # contains m, d and n
    pair.refresh_from_db()
    assert pair.status == LossCandidate.Status.OPEN
    page.click("button[value=different]")
    page.wait_for_url(f"{live_server.url}/review/duplicates/")
    pair.refresh_from_db()
    assert pair.status == LossCandidate.Status.DIFFERENT_ITEMS
    assert pair.reason == "damn, not merged"
