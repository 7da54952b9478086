"""The territory map in a real browser: it renders a date, the slider moves it, a district opens
its timeline."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from attrition.accounts.models import User
from attrition.territory.models import ControlStatus
from tests.ledger import Ledger
from tests.territory.tiny import Map, tiny_map_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = dt.date


@pytest.fixture
def tiny_map(ledger: Ledger, contributor: User, reviewer: User) -> Map:
    return tiny_map_make(ledger, contributor, reviewer)


def test_it_renders_a_date_moves_with_the_slider_and_opens_a_timeline(
    page_as: Callable[[Any], Any],
    live_server: Any,
    tiny_map: Map,
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    m = tiny_map
    m.record(m.alpha, ControlStatus.GOVERNMENT, D(2021, 5, 1))
    m.record(m.alpha, ControlStatus.INSURGENT, D(2021, 6, 20), evidence=[ledger.evidence(3)])
    m.record(m.alpha, ControlStatus.GOVERNMENT, D(2021, 7, 5))
    m.record(m.bravo, ControlStatus.CLAIMED, D(2021, 6, 1))
    page = page_as(None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/c/test-war/territory/?date=2021-06-25")

    page.wait_for_selector('#t-map[data-date="2021-06-25"]')
    alpha = page.locator("path.t-unit-T01-alpha")
    assert alpha.get_attribute("data-status") == "insurgent"
    assert page.locator("path.t-unit-T01-bravo").get_attribute("data-status") == "claimed"
    assert page.locator("path.t-unit-T02-charlie").get_attribute("data-status") == "unknown"
    assert page.locator("path.t-unit").count() == 4
    assert page.locator('.t-counts li[data-status="insurgent"] .n').inner_text() == "1"
    page.screenshot(path=str(tmp_path / "map-0625.png"), full_page=True)

    slider = page.locator("#t-slider")
    slider.focus()
    for _ in range(11):
        page.keyboard.press("ArrowRight")
    assert page.locator("#t-date-label").inner_text() == "2021-07-06"
    page.wait_for_selector('#t-map[data-date="2021-07-06"]')
    expect(alpha).to_have_attribute("data-status", "government")
    expect(page.locator("#t-summary")).to_contain_text("6 July 2021")
    expect(page).to_have_url(re.compile(r"date=2021-07-06"))

    alpha.click()
    timeline = page.locator('#t-timeline section.t-timeline[data-unit="T01-alpha"]')
    timeline.wait_for()
    text = timeline.inner_text()
    assert "Alpha, North" in text
    assert "RECAPTURED" in text.upper()
    assert "FELL" in text.upper()
    assert timeline.locator('a[href="https://t.me/test_channel/3"]').count() == 1

    page.locator("#t-play").click()
    page.wait_for_function(
        "() => document.getElementById('t-date-label').textContent > '2021-07-06'", timeout=5000
    )
    page.locator("#t-play").click()  # pause
    assert errors == []
