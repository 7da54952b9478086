"""The reader's site in a real browser: overview, search with filters (by keyboard), a loss page,
the map with its markers, a drawn chart and the feed; no page logs an error."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from playwright.sync_api import expect

from tests.ledger import Ledger
from tests.site.published import Published, published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pub(ledger: Ledger) -> Published:
    return published(ledger)


@pytest.fixture
def reader(page_as: Callable[[Any], Any]) -> tuple[Any, list[str]]:
    """Return an anonymous page and the errors it logs (console errors, page errors, 4xx/5xx)."""
    page = page_as(None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text} {msg.location}") if msg.type == "error" else None
        ),
    )
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return page, errors


def test_it_shows_the_overview(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/c/test-war/overview/")
    sentence = page.locator("#side-andsf .at-least").inner_text()
    assert "At least 5 items lost by Afghan National Army are documented" in sentence
    assert page.locator("#side-taliban table.counts tbody tr").count() == 1
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    assert errors == []


def test_it_filters_the_list_from_the_keyboard(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/losses/")
    assert page.locator("tr.loss-row").count() == 6

    # Tab from the text box through the form: every filter is reachable without a mouse.
    page.locator("#f-q").focus()
    reached = set()
    for _ in range(30):
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.name"))
        page.keyboard.press("Tab")
    assert {"f-q", "f-conflict", "f-side", "f-category", "f-model", "fate", "f-from", "f-to",
            "f-video", "f-sort"} <= reached  # fmt: skip

    page.locator('input[name="fate"][value="captured"]').focus()
    page.keyboard.press("Space")  # htmx swaps the results in
    expect(page.locator("tr.loss-row")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"fate=captured"))
    expect(page.locator("#count")).to_contain_text("At least 2 items")

    page.locator("#f-q").fill("ranger")
    expect(page.locator("tr.loss-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=ranger"))
    csv_link = page.locator(".downloads a", has_text="CSV").get_attribute("href")
    assert "fate=captured" in csv_link
    assert "q=ranger" in csv_link
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    assert errors == []


def test_it_shows_a_loss_page(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/losses/{pub.public[1].pk}/")
    assert "T-55 (test)" in page.locator("h1").inner_text()
    assert page.locator('a[href="https://t.me/test_channel/1"]').count() == 1
    page.screenshot(path=str(tmp_path / "loss.png"), full_page=True)
    assert errors == []


def test_a_loss_page_draws_its_place_on_a_small_map(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/losses/{pub.public[0].pk}/")
    page.wait_for_selector("#loss-place-map[data-drawn]")
    assert page.locator("#loss-place-map").get_attribute("data-drawn") == "point"
    assert page.locator("#loss-place-map path.loss-marker").count() == 1
    assert page.locator("#loss-place-map img.leaflet-tile").count() == 0  # no tile server
    page.locator("#history-link").click()
    expect(page.locator("h1")).to_contain_text(f"History of #{pub.public[0].pk}")
    page.screenshot(path=str(tmp_path / "loss-history.png"), full_page=True)
    assert errors == []


def test_it_draws_the_map_with_markers(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/c/test-war/map/")
    page.wait_for_selector("#loss-map[data-points]")
    assert page.locator("#loss-map").get_attribute("data-points") == "1"
    assert page.locator("path.loss-marker").count() == 1
    assert page.locator("img.leaflet-tile").count() == 0  # no tile server by default
    page.screenshot(path=str(tmp_path / "map.png"), full_page=True)
    assert errors == []


def test_it_draws_the_charts(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any, tmp_path: Path
) -> None:
    page, errors = reader
    page.goto(f"{live_server.url}/c/test-war/charts/?period=month&split=category")
    drawn = page.evaluate(
        """() => ["chart-periods", "chart-cumulative"].map((id) => {
             const chart = Chart.getChart(document.getElementById(id));
             return chart ? chart.data.datasets.map((d) => d.data) : null;
           })"""
    )
    assert drawn[0] is not None
    assert sum(sum(d) for d in drawn[0]) == 5
    assert drawn[1] == [[1, 4, 5]]
    # Something was painted: the canvas is not blank.
    painted = page.evaluate(
        """() => {
             const c = document.getElementById("chart-periods");
             const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
             return px.some((v, i) => i % 4 === 3 && v > 0);
           }"""
    )
    assert painted
    page.screenshot(path=str(tmp_path / "charts.png"), full_page=True)
    assert errors == []


def test_the_feed_is_valid_atom(
    pub: Published, reader: tuple[Any, list[str]], live_server: Any
) -> None:
    page, errors = reader
    response = page.request.get(f"{live_server.url}/feed.atom")
    assert response.ok
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.body())
    atom = "{http://www.w3.org/2005/Atom}"
    assert root.tag == f"{atom}feed"
    assert root.find(f"{atom}title") is not None
    assert root.find(f"{atom}updated") is not None
    assert len(root.findall(f"{atom}entry")) == len(pub.public)
    assert errors == []
