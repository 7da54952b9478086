"""The territory API: the map on a date as GeoJSON and CSV, counts, borders, a unit's history."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json

from django.test import Client

from attrition.catalog.models import Conflict
from attrition.reference.load import reference_load
from attrition.territory.models import ControlStatus
from tests.ledger import Ledger
from tests.territory.tiny import Map

INS, G, U = ControlStatus.INSURGENT, ControlStatus.GOVERNMENT, ControlStatus.CLAIMED
D = dt.date
BASE = "/api/v1/territory/test-war"


def fill(m: Map, ledger: Ledger) -> None:
    m.record(m.alpha, G, D(2021, 5, 1))
    m.record(m.alpha, INS, D(2021, 6, 20), side=m.taliban, evidence=[ledger.evidence(1)])
    m.record(m.alpha, G, D(2021, 7, 5), side=m.government)
    m.record(m.bravo, U, D(2021, 6, 1), side=m.taliban)
    m.record(m.delta, INS, D(2021, 6, 1), verified=False)


def test_it_serves_the_map_of_a_date_as_geojson(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    response = anon_client.get(f"{BASE}/control.geojson?date=2021-06-25")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    assert data["date"] == "2021-06-25"
    by_code = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert by_code["T01-alpha"]["status"] == INS
    assert by_code["T01-alpha"]["since"] == "2021-06-20"
    assert by_code["T01-bravo"]["status"] == U
    assert by_code["T01-bravo"]["assessed"] == "unknown"
    assert by_code["T02-delta"]["status"] == "unknown"  # its record is not verified
    assert data["features"][0]["geometry"]["type"] == "Polygon"


def test_it_gzips_the_map_for_clients_that_accept_it(tiny_map: Map, anon_client: Client) -> None:
    response = anon_client.get(f"{BASE}/control.geojson", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["type"] == "FeatureCollection"


def test_it_serves_the_map_of_a_date_as_csv(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    response = anon_client.get(f"{BASE}/control.csv?date=2021-07-10")
    assert response.status_code == 200
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["T01-alpha"]["status"] == G
    assert rows["T01-alpha"]["side"] == "andsf"
    assert rows["T01-alpha"]["age_days"] == "5"
    assert rows["T02-charlie"]["status"] == "unknown"


def test_it_summarises_a_date_and_the_change_since_another(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    data = anon_client.get(f"{BASE}/summary?date=2021-07-10&since=2021-06-01").json()
    assert data["districts"]["by_status"] == {
        "government": 1,
        "contested": 0,
        "insurgent": 0,
        "claimed": 1,
        "unknown": 2,
    }
    assert [(c["unit"], c["kind"]) for c in data["changes"]] == [
        ("T01-alpha", "fell"),
        ("T01-alpha", "recaptured"),
    ]
    assert data["provinces"][0]["sentence"] == (
        "North: 2 districts, of which 1 government, 1 claimed, unconfirmed"
    )


def test_it_shows_a_units_history_with_its_evidence(
    tiny_map: Map, ledger: Ledger, anon_client: Client
) -> None:
    fill(tiny_map, ledger)
    data = anon_client.get(f"{BASE}/units/T01-alpha/history").json()
    assert [(h["status"], h["kind"]) for h in data["history"]] == [
        (G, "recorded"),
        (INS, "fell"),
        (G, "recaptured"),
    ]
    assert data["history"][1]["evidence"][0]["url"] == "https://t.me/test_channel/1"
    missing = anon_client.get(f"{BASE}/units/T09-nowhere/history")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_it_reports_border_shares_that_add_up(db: None, anon_client: Client) -> None:
    reference_load()
    data = anon_client.get("/api/v1/territory/afghanistan-2021/borders?date=2021-07-01").json()
    tjk = next(b for b in data["borders"] if b["country"] == "TJK")
    assert tjk["total_km"] == 1353.1
    assert round(sum(tjk["by_status_km"].values()), 1) == 1353.1
    assert tjk["share"]["unknown"] == 1.0
    assert Conflict.objects.get(slug="afghanistan-2021").boundary_set is not None


def test_it_answers_an_unknown_conflict_with_the_one_error_shape(anon_client: Client) -> None:
    response = anon_client.get("/api/v1/territory/nope/summary")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
