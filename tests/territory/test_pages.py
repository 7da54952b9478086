"""The public territory pages: the map page, the data its slider fetches, a unit's timeline."""

from __future__ import annotations

import datetime as dt
import json

from django.test import Client

from attrition.territory.models import ControlStatus
from tests.ledger import Ledger
from tests.territory.tiny import Map

INS, G = ControlStatus.INSURGENT, ControlStatus.GOVERNMENT
D = dt.date


def fill(m: Map, ledger: Ledger) -> None:
    m.record(m.alpha, G, D(2021, 5, 1))
    m.record(m.alpha, INS, D(2021, 6, 20), side=m.taliban, evidence=[ledger.evidence(7)])
    m.record(m.alpha, G, D(2021, 7, 5), side=m.government)


def test_it_lists_conflicts_with_a_map_and_links_them_from_the_nav(
    tiny_map: Map, anon_client: Client
) -> None:
    page = anon_client.get("/territory/")
    assert page.status_code == 200
    assert b'href="/c/test-war/territory/"' in page.content
    assert b'href="/territory/">Territory</a>' in page.content


def test_it_renders_the_map_page_for_a_date(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    page = anon_client.get("/c/test-war/territory/?date=2021-06-25")
    assert page.status_code == 200
    html = page.content.decode()
    assert "25 June 2021" in html
    assert 'id="t-slider"' in html
    assert 'id="t-play"' in html
    assert "territory/vendor/leaflet/leaflet.js" in html
    assert "Tajikistan: 100.1 of 150.3 km (67%) insurgent-controlled" in html
    assert "North: 2 districts, of which 1 insurgent-controlled, 1 unknown" in html
    config = json.loads(html.split('id="t-config" type="application/json">')[1].split("<")[0])
    assert config["date"] == "2021-06-25"
    assert config["tileUrl"] == ""  # no tile server unless one is configured


def test_it_serves_outlines_and_statuses_for_the_slider(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    outlines = anon_client.get("/c/test-war/territory/districts.geojson").json()
    assert len(outlines["features"]) == 4
    data = anon_client.get("/c/test-war/territory/status.json?date=2021-07-06").json()
    assert data["units"][str(tiny_map.alpha.pk)]["status"] == G
    assert data["units"][str(tiny_map.charlie.pk)]["status"] == "unknown"
    assert "6 July 2021" in data["panel"]


def test_it_shows_a_units_timeline_with_its_evidence(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    page = anon_client.get("/c/test-war/territory/units/T01-alpha/?date=2021-07-10")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alpha, North" in html
    assert "recaptured" in html
    assert "fell" in html
    assert "https://t.me/test_channel/7" in html
    fragment = anon_client.get("/c/test-war/territory/units/T01-alpha/?fragment=1")
    assert b"<html" not in fragment.content
    assert b"recaptured" in fragment.content
    empty = anon_client.get("/c/test-war/territory/units/T02-charlie/").content.decode()
    assert "No verified record for this unit: its status is unknown." in empty


def test_it_hides_unverified_records_and_unknown_conflicts(
    tiny_map: Map, anon_client: Client
) -> None:
    tiny_map.record(tiny_map.delta, INS, D(2021, 6, 1), verified=False)
    page = anon_client.get("/c/test-war/territory/units/T02-delta/").content.decode()
    assert "No verified record" in page
    assert anon_client.get("/c/nope/territory/").status_code == 404
    assert anon_client.get("/c/test-war/territory/?date=June").status_code == 404
