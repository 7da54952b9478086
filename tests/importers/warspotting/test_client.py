"""The WarSpotting client against a real server on loopback: pace, retries, refusals, identity."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.importers.warspotting.client import Client, Rate, SyncFailed, user_agent
from tests.importers.warspotting.conftest import FakeWarSpotting, Reply

DAY = dt.date(2024, 3, 1)


def test_it_pages_through_a_day_until_a_short_page(api: FakeWarSpotting) -> None:
    records = api.client().day(DAY)
    assert [r["id"] for r in records] == [41201, 41202, 41203, 41204, 41205]
    assert [h.path for h in api.hits] == [f"/api/losses/russia/2024-03-01/{n}/" for n in (1, 2, 3)]


def test_it_asks_for_one_more_page_after_a_full_one(api: FakeWarSpotting) -> None:
    assert len(api.client().day(dt.date(2024, 3, 2))) == 2
    assert [h.path[-3:] for h in api.hits] == ["/1/", "/2/"]


def test_it_never_sends_more_than_the_rate_allows(api: FakeWarSpotting) -> None:
    client = api.client(rate=Rate(requests=5, per_s=0.5))
    for _ in range(25):
        client.get_json(api.api + "/losses/russia/2024-03-03/1/")
    stamps = [h.at for h in api.hits]
    assert len(stamps) == 25
    # Any 6 consecutive requests span more than the window: no window holds more than 5.
    assert min(stamps[i + 5] - stamps[i] for i in range(20)) >= 0.5


def test_it_paces_at_ten_requests_in_ten_seconds_by_default() -> None:
    assert Rate.parse("10/10s") == Rate(requests=10, per_s=10)
    assert Client(base_url="https://ukr.warspotting.net/api").limit.rate == Rate(10, 10)
    assert Rate.parse("60/min") == Rate(60, 60)
    with pytest.raises(SyncFailed, match="not a rate"):
        Rate.parse("fast")


def test_it_waits_as_long_as_retry_after_asks(api: FakeWarSpotting) -> None:
    api.script["*"] = [Reply(429, b"slow down", {"Retry-After": "1"})]
    assert api.client().get_json(api.api + "/losses/russia/2024-03-03/1/") == {"losses": []}
    first, second = api.hits
    assert second.at - first.at >= 1.0


def test_it_gives_up_when_retry_after_is_longer_than_it_waits(api: FakeWarSpotting) -> None:
    api.script["*"] = [Reply(429, b"", {"Retry-After": "3600"})]
    with pytest.raises(SyncFailed, match="asks to wait 3600 s"):
        api.client(max_wait_s=60).get_json(api.api + "/losses/russia/2024-03-03/1/")
    assert len(api.hits) == 1


def test_it_backs_off_on_server_errors_then_succeeds(api: FakeWarSpotting) -> None:
    api.script["*"] = [Reply(503), Reply(500, b"oops")]
    client = api.client(backoff_s=0.1)
    assert client.day(dt.date(2024, 3, 3)) == []
    gaps = [b.at - a.at for a, b in zip(api.hits, api.hits[1:], strict=False)]
    assert len(api.hits) == 3
    assert gaps[0] >= 0.1
    assert gaps[1] >= 0.2


def test_it_gives_up_after_a_bounded_number_of_attempts(api: FakeWarSpotting) -> None:
    api.script["*"] = [Reply(502)] * 10
    with pytest.raises(SyncFailed, match=r"gave up after 3 attempts: .* answered 502"):
        api.client(backoff_s=0.01, max_attempts=3).day(DAY)
    assert len(api.hits) == 3


def test_it_does_not_retry_a_wrong_url(api: FakeWarSpotting) -> None:
    with pytest.raises(SyncFailed, match="answered 404: is the base URL right"):
        api.client().get_json(api.base + "/nothing/here/")
    assert len(api.hits) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"losses": [{"id": 1', "malformed JSON"),
        (b'{"items": []}', 'no "losses" list'),
        (b"[1, 2]", 'no "losses" list'),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_it_refuses_what_is_not_the_format(api: FakeWarSpotting, body: bytes, error: str) -> None:
    api.script["*"] = [Reply(200, body)]
    with pytest.raises(SyncFailed, match=error):
        api.client().day(DAY)


def test_it_sends_a_user_agent_naming_the_product_and_the_contact(api: FakeWarSpotting) -> None:
    api.client(contact="https://losses.example.org/about").day(dt.date(2024, 3, 3))
    agent = api.hits[0].headers["User-Agent"]
    assert agent.startswith("attrition/")
    assert "WarSpotting sync" in agent
    assert "+https://losses.example.org/about" in agent
    assert api.hits[0].headers["Accept"] == "application/json"


def test_it_names_the_instance_when_no_contact_is_set() -> None:
    assert "no contact set" in user_agent("")


def test_it_refuses_loopback_unless_allowed(
    api: FakeWarSpotting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTRITION_FETCH_ALLOW", raising=False)
    client = Client(base_url=api.api, rate=Rate(100, 1))
    with pytest.raises(SyncFailed, match="loopback"):
        client.day(DAY)
    assert api.hits == []


def test_it_refuses_a_redirect_to_an_internal_address(api: FakeWarSpotting) -> None:
    api.script["*"] = [Reply(302, b"", {"Location": "http://169.254.169.254/latest/"})]
    with pytest.raises(SyncFailed, match="metadata"):
        api.client().day(DAY)
