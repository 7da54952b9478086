"""The reader's pages: overview, search, model, map, charts, the feed and the full snapshot."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from attrition.losses.models import Loss, LossVersion
from attrition.losses.selectors import losses_stats, public_ledger
from attrition.losses.snapshots import snapshot_manifest, snapshot_refresh
from tests.ledger import Ledger
from tests.site.published import Published, published

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def pub(ledger: Ledger) -> Published:
    return published(ledger)


def html(client: Client, url: str, status: int = 200, **headers: Any) -> str:
    response = client.get(url, **headers)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def test_it_gives_each_side_an_at_least_sentence_with_a_permalink(
    pub: Published, anon_client: Client
) -> None:
    page = html(anon_client, "/c/test-war/overview/")
    assert (
        "At least <strong>5</strong> items lost by\n      Afghan National Army are documented"
        in page
    )
    assert "2 destroyed, 1 damaged, 1 abandoned, 1 captured." in page
    assert 'href="/c/test-war/overview/#side-andsf"' in page
    assert 'id="side-andsf"' in page
    assert "/losses/?conflict=test-war&amp;side=taliban" in page


def test_its_category_tables_hold_the_public_counts(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/c/test-war/overview/")
    shown = {
        (side, category): int(total)
        for side, category, total in re.findall(
            r'<tr id="side-([\w-]+?)-(test-[\w-]+)">.*?</th>\s*<td>(\d+)</td>', page, re.S
        )
    }
    stats = losses_stats(
        queryset=public_ledger().filter(conflict__slug="test-war"), by=["side", "category"]
    )
    counted = {(r.key["side"], r.key["category"]): r.count for r in stats.rows}
    assert shown == counted
    assert sum(shown.values()) == stats.total > 0


def test_it_says_what_changed_since_yesterday_and_last_week(
    pub: Published, anon_client: Client
) -> None:
    # The first four were verified nine days ago: only the last two are new this week.
    old = timezone.now() - dt.timedelta(days=9)
    LossVersion._default_manager.filter(record__in=pub.public[:4]).update(valid_from=old)
    page = html(anon_client, "/c/test-war/overview/")
    assert "Since yesterday" in page
    assert "+2 in the count\n      (4 → 6)" in page
    assert page.count(f'href="/losses/{pub.public[5].pk}/"') == 2
    assert f'href="/losses/{pub.public[0].pk}/"' not in page


def test_it_searches_with_the_filters_and_pages(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/losses/?category=test-trucks&fate=captured")
    assert "At least <strong>1</strong> item documented" in page
    assert f'data-loss="{pub.public[2].pk}"' in page
    assert f'data-loss="{pub.public[3].pk}"' not in page
    assert "/api/v1/exports/losses.csv?category=test-trucks&amp;fate=captured" in page


def test_it_answers_htmx_with_the_results_only(pub: Published, anon_client: Client) -> None:
    part = html(
        anon_client, "/losses/?place=AF17", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert "<form" not in part
    assert part.count('class="loss-row"') == 2


def test_it_pages_the_search_with_a_cursor(
    pub: Published, anon_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("attrition.site.pages.PAGE_SIZE", 4)
    first = html(anon_client, "/losses/")
    assert first.count('class="loss-row"') == 4
    start = first.index('class="next" href="') + len('class="next" href="')
    link = first[start : first.index('"', start)].replace("&amp;", "&")
    assert html(anon_client, link).count('class="loss-row"') == 2


def test_it_says_what_is_wrong_with_a_bad_filter(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/losses/?side=nobody", status=400)
    assert "unknown side: nobody" in page


def test_the_search_shows_no_unverified_loss(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/losses/")
    for loss in pub.hidden:
        assert f'data-loss="{loss.pk}"' not in page
    assert page.count('class="loss-row"') == len(pub.public)


def test_it_shows_a_model_page(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/models/ranger-test/")
    assert "At least <strong>3</strong> Ford Ranger (test) are documented lost" in page
    assert "1 destroyed, 0 damaged, 1 abandoned, 1 captured" in page
    assert "29 July 2021" in page  # first seen
    assert "10 September 2021" in page  # last seen
    assert anon_client.get("/models/nothing/").status_code == 404


def test_it_shows_the_map_page_with_counts_per_province(
    pub: Published, anon_client: Client
) -> None:
    page = html(anon_client, "/c/test-war/map/")
    assert "Kunduz</a></th><td>2</td>" in page
    assert "territory/vendor/leaflet/leaflet.js" in page
    assert '"AF1705": 1' in page
    assert "/api/v1/exports/losses.geojson?conflict=test-war" in page


def test_it_shows_the_chart_data(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/c/test-war/charts/?period=month&split=fate")
    assert '"periods": ["2021-07", "2021-08", "2021-09"]' in page
    assert '"cumulative": [1, 4, 5]' in page
    assert "site/vendor/chart.umd.min.js" in page
    assert anon_client.get("/c/test-war/charts/?period=decade").status_code == 404


def test_the_feed_is_atom_with_the_verified_losses(pub: Published, anon_client: Client) -> None:
    response = anon_client.get("/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    links = {e.find(f"{ATOM}link").get("href") for e in entries}  # type: ignore[union-attr]
    assert links == {f"http://testserver/losses/{x.pk}/" for x in pub.public}
    for entry in entries:
        assert entry.find(f"{ATOM}id") is not None
        assert entry.find(f"{ATOM}updated") is not None
    conflict_feed = ElementTree.fromstring(anon_client.get("/c/test-war/feed.atom").content)
    assert len(conflict_feed.findall(f"{ATOM}entry")) == len(pub.public)
    assert anon_client.get("/c/nowhere/feed.atom").status_code == 404


def test_the_nav_links_the_search_and_the_feed(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/")
    assert 'href="/losses/"' in page
    assert 'href="/feed.atom"' in page
    assert 'href="/c/test-war/overview/"' in page


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def test_the_full_snapshot_holds_csvs_a_sqlite_file_and_a_readme(
    pub: Published, media: Path, anon_client: Client, tmp_path: Path
) -> None:
    formula = pub.public[0]
    Loss.objects.filter(pk=formula.pk).update(markings="=1+1")
    assert snapshot_refresh() == {"csv": 6, "json": 6}
    manifest = snapshot_manifest()
    assert manifest is not None
    assert "zip" in manifest["files"]
    response = anon_client.get("/data/losses.zip")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[arg-type]
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {"README.md", "attrition.sqlite", "losses.csv", "evidence.csv", "models.csv"} <= names
    readme = archive.read("README.md").decode()
    assert "CC-BY-4.0" in readme
    assert f"Data version: `{manifest['stamp']}`" in readme
    assert "Test boundaries: Test (CC0)" in readme
    assert "- `first_seen` (text)" in readme
    rows = list(csv.DictReader(io.StringIO(archive.read("losses.csv").decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(x.pk for x in pub.public)
    # The CSV shows a formula's text in a spreadsheet, never runs it; the SQLite file holds it.
    assert {r["markings"] for r in rows if int(r["id"]) == formula.pk} == {"'=1+1"}
    (tmp_path / "a.sqlite").write_bytes(archive.read("attrition.sqlite"))
    db = sqlite3.connect(tmp_path / "a.sqlite")
    assert db.execute(f"SELECT markings FROM losses WHERE id = {formula.pk}").fetchone() == (
        "=1+1",
    )
    assert db.execute("SELECT count(*) FROM losses").fetchone() == (6,)
    assert db.execute("SELECT count(*) FROM evidence").fetchone() == (2,)
    by_fate = db.execute("SELECT fate, count(*) FROM losses GROUP BY fate ORDER BY fate")
    assert by_fate.fetchall() == [
        ("abandoned", 1),
        ("captured", 2),
        ("damaged", 1),
        ("destroyed", 2),
    ]
    db.close()
