"""The published ledger's API: filters, cursor pages, counts, exports, ETags, CORS, visibility."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, Tag
from attrition.losses.selectors import filtering
from tests.ledger import Ledger
from tests.site.published import Published, published


@pytest.fixture
def pub(ledger: Ledger) -> Published:
    return published(ledger)


def ids(client: Client, query: str) -> list[int]:
    response = client.get(f"/api/v1/losses?{query}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_it_lists_only_verified_losses_to_anonymous_readers(
    pub: Published, anon_client: Client
) -> None:
    assert sorted(ids(anon_client, "limit=500")) == sorted(x.pk for x in pub.public)


def test_each_listed_loss_is_the_loss_as_its_own_page_shows_it(
    pub: Published, anon_client: Client
) -> None:
    loss = pub.public[0]
    # Tags out of order, and a fate history as older records store it (no detail, extra keys).
    loss.tags.add(Tag.objects.create(slug="zulu", name="zulu"))
    loss.tags.add(Tag.objects.create(slug="a", name="a"))
    history = [{"fate": "captured"}, {"fate": "destroyed", "date": "2021-08-20", "note": "x"}]
    Loss.objects.filter(pk=loss.pk).update(fate_history=history, fate="destroyed")
    listed = anon_client.get("/api/v1/losses?limit=500").json()["items"]
    assert len(listed) == len(pub.public)
    for item in listed:
        assert item == anon_client.get(f"/api/v1/losses/{item['id']}").json()
    first = next(item for item in listed if item["id"] == loss.pk)
    assert first["tags"] == sorted(t.name for t in loss.tags.all())
    assert {"a", "zulu"} <= set(first["tags"])
    assert first["fate_history"] == [
        {"fate": "captured", "detail": "", "date": None},
        {"fate": "destroyed", "detail": "", "date": "2021-08-20"},
    ]


def test_it_lists_only_verified_losses_to_reviewers_too(
    pub: Published, reviewer_client: Client
) -> None:
    assert sorted(ids(reviewer_client, "limit=500")) == sorted(x.pk for x in pub.public)


def test_it_hides_losses_of_conflicts_that_are_not_public(
    pub: Published, anon_client: Client
) -> None:
    pub.ledger.conflict.is_public = False
    pub.ledger.conflict.save()
    assert ids(anon_client, "") == []
    assert anon_client.get("/api/v1/conflicts").json() == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("side=taliban", [2]),
        ("category=test-trucks", [2, 3, 5]),
        ("model=t-55-test", [1]),
        ("fate=captured&fate=abandoned", [1, 2, 3]),
        ("seen_from=2021-08-02&seen_to=2021-08-31", [1, 2]),
        ("place=AF17", [0, 1]),  # the province and its district
        ("place=AF1705", [0]),
        ("tag=convoy", [0]),
        ("has_video=true", [0]),
        ("has_video=false", [1, 2, 3, 4, 5]),
        ("q=211", [0]),
        ("q=215th", [5]),
        ("q=ranger", [2, 3, 5]),
        ("conflict=test-war&category=test-tanks&fate=destroyed", [0]),
    ],
)
@pytest.mark.parametrize("walk_from", [1, 10_000])
def test_it_filters_the_list(
    pub: Published,
    anon_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    expected: list[int],
    walk_from: int,
) -> None:
    # Several models (a category) or places (a province) are tested while walking the date
    # index where they keep many losses (1 here), else read from their index: the same losses.
    monkeypatch.setattr(filtering, "_WALK_FROM_MATCHES", walk_from)
    assert sorted(ids(anon_client, query)) == sorted(pub.public[i].pk for i in expected)


def test_it_sorts_by_first_sighting_with_unknown_dates_last(
    pub: Published, anon_client: Client
) -> None:
    order = [pub.public[i].pk for i in (3, 2, 1, 0, 5, 4)]
    assert ids(anon_client, "") == order
    assert ids(anon_client, "sort=first_seen") == [pub.public[i].pk for i in (5, 0, 1, 2, 3, 4)]
    assert ids(anon_client, "sort=-id") == sorted((x.pk for x in pub.public), reverse=True)


@pytest.mark.parametrize("sort", ["-first_seen", "first_seen", "-id", "id"])
def test_it_pages_through_everything_once_with_cursors(
    pub: Published, anon_client: Client, sort: str
) -> None:
    url: str | None = f"/api/v1/losses?sort={sort}&limit=2"
    seen: list[int] = []
    while url:
        body = anon_client.get(url).json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert seen == ids(anon_client, f"sort={sort}&limit=500")
    assert len(seen) == len(pub.public)


def test_it_limits_the_page_size(pub: Published, anon_client: Client) -> None:
    response = anon_client.get("/api/v1/losses?limit=501")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert anon_client.get("/api/v1/losses?limit=0").status_code == 422


@pytest.mark.parametrize(
    "query",
    ["side=nobody", "category=nothing", "place=XX99", "cursor=garbage", "sort=colour", "fate=lost"],
)
def test_it_answers_bad_filters_with_the_one_error_shape(
    pub: Published, anon_client: Client, query: str
) -> None:
    response = anon_client.get(f"/api/v1/losses?{query}")
    assert response.status_code in (400, 422)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "invalid"


@pytest.mark.parametrize("name", ["conflict", "side", "category", "model", "place", "tag", "q"])
def test_it_refuses_a_nul_character_in_any_text_filter(
    pub: Published, anon_client: Client, name: str
) -> None:
    """No stored text can hold one: PostgreSQL refuses it in a query, SQLite ends the string."""
    query = {name: "a\x00b"}
    for url in ("/api/v1/losses", "/api/v1/stats", "/api/v1/exports/losses.csv"):
        response = anon_client.get(url, query)
        assert response.status_code == 422, url
        error = response.json()["error"]
        assert error["code"] == "invalid"
        [problem] = error["details"]["problems"]
        assert problem["at"] == f"query.{name}"
        assert "NUL character" in problem["message"]
    assert anon_client.get("/losses/", query).status_code == 400


def test_it_refuses_a_cursor_of_another_sort(pub: Published, anon_client: Client) -> None:
    cursor = anon_client.get("/api/v1/losses?limit=1").json()["next_cursor"]
    response = anon_client.get(f"/api/v1/losses?sort=id&cursor={cursor}")
    assert response.status_code == 400
    assert "another sort" in response.json()["error"]["message"]


def test_it_answers_304_when_the_etag_matches(pub: Published, anon_client: Client) -> None:
    first = anon_client.get("/api/v1/losses?side=andsf")
    etag = first["ETag"]
    assert etag
    assert first.has_header("Last-Modified")

    again = anon_client.get("/api/v1/losses?side=andsf", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["Access-Control-Allow-Origin"] == "*"

    pub.ledger.loss(first_seen=None)
    changed = anon_client.get("/api/v1/losses?side=andsf", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_it_allows_cross_origin_reads_but_not_writes(pub: Published, anon_client: Client) -> None:
    read = anon_client.get("/api/v1/stats", HTTP_ORIGIN="https://news.example")
    assert read["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in read["Access-Control-Expose-Headers"]
    preflight = anon_client.options(
        "/api/v1/losses",
        HTTP_ORIGIN="https://news.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    write_preflight = anon_client.options(
        "/api/v1/losses",
        HTTP_ORIGIN="https://news.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert not write_preflight.has_header("Access-Control-Allow-Origin")
    write = anon_client.post("/api/v1/losses", {}, content_type="application/json")
    assert write.status_code == 401
    assert not write.has_header("Access-Control-Allow-Origin")


def stats(client: Client, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/stats?{query}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_it_counts_by_side_and_fate(pub: Published, anon_client: Client) -> None:
    body = stats(anon_client, "by=side&by=fate")
    counts = {(r["key"]["side"], r["key"]["fate"]): r["count"] for r in body["rows"]}
    assert body["total"] == 6
    assert counts == {
        ("andsf", "destroyed"): 2,
        ("andsf", "captured"): 1,
        ("andsf", "abandoned"): 1,
        ("andsf", "damaged"): 1,
        ("taliban", "captured"): 1,
    }
    assert body["labels"]["side"]["taliban"] == "Taliban"


def test_it_counts_by_category_model_and_place(pub: Published, anon_client: Client) -> None:
    by_category = stats(anon_client, "by=category")
    assert {r["key"]["category"]: r["count"] for r in by_category["rows"]} == {
        "test-tanks": 3,
        "test-trucks": 3,
    }
    by_model = stats(anon_client, "by=model&category=test-tanks")
    assert {r["key"]["model"]: r["count"] for r in by_model["rows"]} == {
        "t-62-test": 2,
        "t-55-test": 1,
    }
    by_province = stats(anon_client, "by=province")
    assert {r["key"]["province"]: r["count"] for r in by_province["rows"]} == {
        "AF17": 2,
        "AF32": 1,
        None: 3,
    }
    by_district = stats(anon_client, "by=district&place=AF17")
    assert {r["key"]["district"]: r["count"] for r in by_district["rows"]} == {
        "AF1705": 1,
        None: 1,
    }


def test_it_counts_by_period(pub: Published, anon_client: Client) -> None:
    months = stats(anon_client, "by=period&period=month")
    assert [(r["key"]["period"], r["count"]) for r in months["rows"]] == [
        ("2021-07", 1),
        ("2021-08", 3),
        ("2021-09", 1),
        (None, 1),
    ]
    days = stats(anon_client, "by=period&period=day&seen_from=2021-08-01&seen_to=2021-08-03")
    assert [(r["key"]["period"], r["count"]) for r in days["rows"]] == [
        ("2021-08-01", 1),
        ("2021-08-03", 1),
    ]


def test_it_refuses_an_unknown_dimension(pub: Published, anon_client: Client) -> None:
    response = anon_client.get("/api/v1/stats?by=colour")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_it_lists_conflicts_categories_and_models(pub: Published, anon_client: Client) -> None:
    conflicts = anon_client.get("/api/v1/conflicts").json()
    assert [c["slug"] for c in conflicts] == ["test-war"]
    assert [s["slug"] for s in conflicts[0]["sides"]] == ["andsf", "taliban"]
    sides = anon_client.get("/api/v1/conflicts/test-war/sides").json()
    assert [s["short_name"] for s in sides] == ["Afghan forces", "Taliban"]
    assert anon_client.get("/api/v1/conflicts/nowhere").status_code == 404
    categories = anon_client.get("/api/v1/categories").json()
    assert [c["slug"] for c in categories][:2] == ["test-tanks", "test-trucks"]
    trucks = anon_client.get("/api/v1/models?category=test-trucks").json()
    assert [m["slug"] for m in trucks] == ["ranger-test"]
    assert anon_client.get("/api/v1/models/t-62-test").json()["category"] == "test-tanks"
    assert anon_client.get("/api/v1/models/nothing").status_code == 404


def test_it_shows_a_public_loss_evidence_and_captures(pub: Published, anon_client: Client) -> None:
    body = anon_client.get(f"/api/v1/losses/{pub.public[0].pk}/evidence").json()
    assert [e["url"] for e in body] == ["https://t.me/test_channel/100"]
    assert body[0]["source_status"] == "unknown"
    # The video has no derived thumbnail yet: the public gallery shows nothing of it.
    assert body[0]["captures"] == []

    hidden = anon_client.get(f"/api/v1/losses/{pub.hidden[0].pk}/evidence")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


def streamed(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]


def test_it_exports_exactly_the_filtered_list(pub: Published, anon_client: Client) -> None:
    query = "category=test-trucks&sort=first_seen"
    listed = ids(anon_client, query)
    rows = list(
        csv.DictReader(io.StringIO(streamed(anon_client, f"/api/v1/exports/losses.csv?{query}")))
    )
    assert [int(r["id"]) for r in rows] == listed
    records = json.loads(streamed(anon_client, f"/api/v1/exports/losses.json?{query}"))
    assert [r["id"] for r in records] == listed
    geo = json.loads(streamed(anon_client, f"/api/v1/exports/losses.geojson?{query}"))
    assert geo["type"] == "FeatureCollection"
    assert [f["id"] for f in geo["features"]] == listed


def test_its_csv_export_shows_formulas_as_text(pub: Published, anon_client: Client) -> None:
    Loss.objects.filter(pk=pub.public[0].pk).update(markings="@SUM(1)", unit="+1")
    rows = csv.DictReader(io.StringIO(streamed(anon_client, "/api/v1/exports/losses.csv")))
    [row] = [r for r in rows if int(r["id"]) == pub.public[0].pk]
    assert (row["markings"], row["unit"]) == ("'@SUM(1)", "'+1")
    records = json.loads(streamed(anon_client, "/api/v1/exports/losses.json"))
    [record] = [r for r in records if r["id"] == pub.public[0].pk]
    assert (record["markings"], record["unit"]) == ("@SUM(1)", "+1"), "JSON holds the text as is"


def test_it_exports_points_as_geojson(pub: Published, anon_client: Client) -> None:
    geo = json.loads(streamed(anon_client, "/api/v1/exports/losses.geojson?tag=convoy"))
    (feature,) = geo["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [68.9, 37.1]}
    assert feature["properties"]["admin_unit_code"] == "AF1705"


def test_it_exports_nothing_unpublished(pub: Published, anon_client: Client) -> None:
    records = json.loads(streamed(anon_client, "/api/v1/exports/losses.json"))
    assert {r["status"] for r in records} == {ReviewStatus.VERIFIED}
    assert len(records) == len(pub.public)
    assert anon_client.get("/api/v1/exports/losses.xml").status_code == 404
