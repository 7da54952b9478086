"""The HTTP fetch step against a real server on loopback: media, redirects and bad sources."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from attrition.capture.errors import (
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    LengthMismatch,
    SourceGone,
)
from attrition.capture.steps import STEPS, step_get
from attrition.capture.steps.http_fetch import Limits, run
from tests.conftest import TEST_FETCH_MAX_BYTES
from tests.loopback import JPEG, PNG, Loopback

FAST = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=2.0, connect_s=1.0, read_s=0.5)


@pytest.mark.parametrize(
    ("path", "body", "mime"), [("/photo.jpg", JPEG, "image/jpeg"), ("/photo.png", PNG, "image/png")]
)
def test_it_fetches_media_to_a_temporary_file_with_its_hash(
    media_server: Loopback, tmp_path: Path, path: str, body: bytes, mime: str
) -> None:
    fetched = run(media_server.url(path), limits=FAST, tmp_dir=tmp_path)
    assert fetched.path.read_bytes() == body
    assert fetched.sha256 == hashlib.sha256(body).hexdigest()
    assert fetched.size == len(body)
    assert fetched.status == 200
    assert fetched.headers["content-type"] == mime
    assert fetched.final_url == fetched.source_url == media_server.url(path)
    assert fetched.chain == ()
    assert fetched.address == "127.0.0.1"
    assert fetched.collected_at.utcoffset() is not None
    assert not fetched.collected_at.utcoffset()


def test_it_sends_a_user_agent_and_the_host(media_server: Loopback, tmp_path: Path) -> None:
    run(media_server.url("/photo.jpg"), limits=FAST, tmp_dir=tmp_path)
    request = media_server.requests[-1]
    assert request["User-Agent"].startswith("attrition/")
    assert request["host"] == media_server.base.removeprefix("http://")
    assert request["Accept-Encoding"] == "identity"


def test_it_follows_redirects_and_records_the_chain(media_server: Loopback, tmp_path: Path) -> None:
    fetched = run(media_server.url("/r/1"), limits=FAST, tmp_dir=tmp_path)
    assert fetched.source_url == media_server.url("/r/1")
    assert fetched.final_url == media_server.url("/photo.jpg")
    assert [(hop.url, hop.status, hop.location) for hop in fetched.chain] == [
        (media_server.url("/r/1"), 301, media_server.url("/r/2")),
        (media_server.url("/r/2"), 307, media_server.url("/r/3")),
        (media_server.url("/r/3"), 302, media_server.url("/photo.jpg")),
    ]
    assert fetched.path.read_bytes() == JPEG


def test_it_stops_after_ten_redirects(media_server: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed, match="more than 10 redirects"):
        run(media_server.url("/loop"), limits=FAST, tmp_dir=tmp_path)
    assert len(media_server.requests) == 11


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/gone", 410)])
def test_it_says_the_source_is_gone(
    media_server: Loopback, tmp_path: Path, path: str, status: int
) -> None:
    with pytest.raises(SourceGone, match=f"answered {status}") as caught:
        run(media_server.url(path), limits=FAST, tmp_dir=tmp_path)
    assert caught.value.details["status"] == status
    assert caught.value.as_dict()["error"]["code"] == "source_gone"


def test_it_fails_clearly_on_a_server_error(media_server: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed, match="answered 500"):
        run(media_server.url("/error"), limits=FAST, tmp_dir=tmp_path)


def test_it_times_out_on_a_slow_server(media_server: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchTimeout, match="timed out"):
        run(media_server.url("/slow"), limits=FAST, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_stops_a_download_that_takes_too_long(media_server: Loopback, tmp_path: Path) -> None:
    limits = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=0.5, connect_s=1.0, read_s=1.0)
    with pytest.raises(FetchTimeout, match=r"longer than 0\.5 s"):
        run(media_server.url("/trickle"), limits=limits, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_detects_a_body_shorter_than_its_content_length(
    media_server: Loopback, tmp_path: Path
) -> None:
    with pytest.raises(LengthMismatch, match="said Content-Length 1000 but sent 500"):
        run(media_server.url("/claims-more"), limits=FAST, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_detects_a_body_longer_than_its_content_length(
    media_server: Loopback, tmp_path: Path
) -> None:
    with pytest.raises(LengthMismatch, match=f"said Content-Length 100 but sent {len(JPEG)}"):
        run(media_server.url("/claims-less"), limits=FAST, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_a_file_declared_over_the_cap(media_server: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchTooLarge, match=f"more than the limit of {TEST_FETCH_MAX_BYTES}"):
        run(media_server.url("/huge-declared"), limits=FAST, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_stops_a_file_that_grows_over_the_cap(media_server: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchTooLarge, match="larger than the limit"):
        run(media_server.url("/huge-chunked"), tmp_dir=tmp_path)  # limits from the settings
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-metadata", "169.254.169.254 is a cloud metadata address"),
        ("/to-private", "10.0.0.1 is a private address"),
        ("/to-decimal", "unusual spelling"),
        ("/to-ftp", "only http and https"),
    ],
)
def test_it_refuses_a_redirect_to_an_internal_address(
    media_server: Loopback, tmp_path: Path, path: str, reason: str
) -> None:
    with pytest.raises(FetchRefused, match=reason):
        run(media_server.url(path), limits=FAST, tmp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_loopback_unless_allowed(
    media_server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_FETCH_ALLOW", "")
    with pytest.raises(FetchRefused, match="loopback"):
        run(media_server.url("/photo.jpg"), limits=FAST, tmp_dir=tmp_path)
    assert media_server.requests == []


def test_it_declares_its_steps_in_one_place() -> None:
    names = ["http_fetch", "page", "ytdlp", "store", "enrich", "video", "pdq"]
    assert [step.name for step in STEPS] == names
    assert [step.number for step in STEPS] == sorted(step.number for step in STEPS)
    assert step_get("http_fetch").module().run is run
    assert all(callable(step.module().run) for step in STEPS)
    with pytest.raises(LookupError, match="known: http_fetch, page, ytdlp, store"):
        step_get("nope")
