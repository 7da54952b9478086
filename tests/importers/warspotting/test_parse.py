"""Reading WarSpotting's JSON: the formats accepted, and hostile values rejected with reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attrition.importers.registry import ImportRefused
from attrition.importers.warspotting.parse import feed_decode, record_parse
from attrition.losses.choices import Fate
from tests.importers.warspotting.conftest import FIXTURES

GOOD: dict[str, Any] = FIXTURES["2024-03-01"][0]


def decode(document: Any) -> Any:
    return feed_decode(json.dumps(document).encode(), source_name="dump.json")


def test_it_reads_a_record_as_the_api_writes_it() -> None:
    record = record_parse(GOOD)
    assert record.external_id == "41201"
    assert (record.type, record.model, record.fate) == ("Tanks", "T-72B3 obr. 2016", Fate.DESTROYED)
    assert (record.lat, record.lon) == (48.1899, 37.6102)
    assert record.place == "Berdychi, Donetsk oblast"
    assert record.tags == ("FPV", "ATGM")
    assert record.links == (
        "https://i.postimg.cc/AbCdEf12/1001-t72b3.jpg",
        "https://t.me/example_channel/1201",
        "https://img.example.org/ws/41201-1.jpg",
    )


def test_it_reads_an_api_page_a_list_and_a_sync_dump() -> None:
    page = decode({"losses": FIXTURES["2024-03-02"]})
    assert [r.external_id for r in page.records] == ["41210", "41211"]
    assert page.dates is None
    assert "no record is marked" in page.notes[0]
    assert len(decode(FIXTURES["2024-03-02"]).records) == 2
    dump = decode({"losses": [], "dates": ["2024-03-02", "2024-03-01", "2024-03-02"]})
    assert [str(d) for d in dump.dates or []] == ["2024-03-01", "2024-03-02"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"losses": [', "not valid JSON"),
        (b'{"items": []}', "not WarSpotting's format"),
        (b'"losses"', "not WarSpotting's format"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b'{"losses": [], "dates": ["yesterday"]}', "bad day"),
    ],
)
def test_it_refuses_an_input_that_is_not_the_format(data: bytes, error: str) -> None:
    with pytest.raises(ImportRefused, match=error):
        feed_decode(data, source_name="dump.json")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"model": "T" * 5000}, "model is 5000 characters long"),
        ({"unit": "x" * 301}, "unit is 301 characters long"),
        ({"geo": "not a place"}, 'is not "latitude,longitude"'),
        ({"geo": "91.5,200"}, "off the globe"),
        ({"geo": "nan,inf"}, 'is not "latitude,longitude"'),
        ({"geo": [48.1, 37.6]}, 'is not "latitude,longitude"'),
        ({"status": "Vaporised"}, "status 'Vaporised' is not one of WarSpotting's"),
        ({"status": None}, "status is missing"),
        ({"id": None}, "id None is not a number"),
        ({"id": -3}, "not a positive whole number"),
        ({"id": True}, "is not a number"),
        ({"date": "2024-02-30"}, "not a day of the calendar"),
        ({"date": "3024-01-01"}, "in the future"),
        ({"date": 20240301}, "not a day written YYYY-MM-DD"),
        ({"lost_by": ["Russia"]}, "lost_by ['Russia'] is not text"),
        ({"tags": {"a": 1}}, "neither text nor a list"),
        ({"tags": "x" * 65}, "a tag is 65 characters long"),
        ({"sources": [42]}, "sources holds 42, not a link"),
        ({"nearest_location": "Avdiivka\u0000"}, "NUL character"),
        ({"extra": "y" * 70_000}, "more than 65536"),
    ],
)
def test_it_rejects_a_hostile_record_with_the_reason(change: dict[str, Any], reason: str) -> None:
    feed = decode({"losses": [GOOD | change, FIXTURES["2024-03-02"][0]]})
    assert [r.external_id for r in feed.records] == ["41210"]
    [rejection] = feed.rejected
    assert reason in rejection.reason
    assert rejection.what.startswith("record ")


def test_it_reads_statuses_in_any_case_and_keeps_the_later_copy_of_a_repeated_record() -> None:
    feed = decode({"losses": [GOOD | {"status": "DESTROYED"}, GOOD | {"status": "captured"}]})
    [record] = feed.records
    assert record.fate == Fate.CAPTURED
    assert "appears twice" in feed.notes[0]


def test_it_rejects_a_record_that_is_not_an_object() -> None:
    feed = decode({"losses": ["41201", None]})
    assert feed.records == []
    assert [r.reason for r in feed.rejected] == [
        "a record must be a JSON object, not str",
        "a record must be a JSON object, not NoneType",
    ]
