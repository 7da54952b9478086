"""A contributor submits a loss and a reviewer verifies it, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attrition.accounts.models import User
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import depiction_create, loss_create
from tests.ledger import ledger_small

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_contributor_submits_and_a_reviewer_verifies_from_the_keyboard(
    page_as: Callable[[Any], Any],
    live_server: Any,
    contributor: User,
    reviewer: User,
    tmp_path: Path,
) -> None:
    ledger = ledger_small()
    draft = loss_create(
        conflict=ledger.conflict,
        side=ledger.afghan,
        model=ledger.t62,
        fates=["abandoned", "captured"],
        captured_by=ledger.taliban,
        markings="<b>211</b>",
        status=ReviewStatus.DRAFT,
        by=contributor,
    )
    depiction_create(loss=draft, evidence=ledger.evidence(7), by=contributor)

    author = page_as(contributor)
    author.goto(f"{live_server.url}/review/mine/")
    author.keyboard.press("j")
    author.keyboard.press("Enter")
    author.wait_for_url(f"{live_server.url}/review/losses/{draft.pk}/")
    assert "t.me/test_channel/7" in author.inner_text("section.pair-side")
    assert author.locator("button[data-key=v]").count() == 0  # nobody verifies their own
    with author.expect_navigation():  # the submit posts, then comes back to this page
        author.keyboard.press("s")
    assert "submitted" in author.inner_text("h1")
    assert Loss.objects.get(pk=draft.pk).status == ReviewStatus.SUBMITTED

    checker = page_as(reviewer)
    checker.goto(f"{live_server.url}/review/")
    checker.keyboard.press("j")
    checker.keyboard.press("Enter")
    checker.wait_for_url(f"{live_server.url}/review/losses/{draft.pk}/")
    assert checker.locator("b:text('211')").count() == 0  # hostile markings shown as text
    checker.fill("form.act-reject textarea", "typing r, v and c here decides nothing")
    assert Loss.objects.get(pk=draft.pk).status == ReviewStatus.SUBMITTED
    checker.locator("h1").click()  # leave the field
    checker.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    checker.keyboard.press("v")
    checker.wait_for_url(f"{live_server.url}/review/")

    verified = Loss.objects.get(pk=draft.pk)
    assert verified.status == ReviewStatus.VERIFIED
    latest = LossVersion.objects.filter(record=verified).latest("version")
    assert (latest.changed_by, latest.changed_via) == (reviewer, "web")
    assert "Nothing waiting for review" in checker.inner_text("table.queue")
