"""The ytdlp step against real servers on loopback: video pages, and sources that misbehave."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from attrition.capture.errors import (
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    SourceGone,
)
from attrition.capture.steps import ytdlp
from attrition.capture.steps.http_fetch import Limits
from attrition.capture.steps.ytdlp import can_handle, run
from attrition.capture.steps.ytdlp.network import Gate, GuardedRH, GuardedYoutubeDL
from tests.conftest import TEST_FETCH_MAX_BYTES
from tests.loopback import Loopback, Route, send

FAST = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=5.0, connect_s=1.0, read_s=0.5)
# The test server's address only: every other loopback address stays refused.
ONLY_SERVER = [ipaddress.IPv4Network("127.0.0.1/32")]


def mp4_bytes(frames: int = 10) -> bytes:
    """Return a tiny real MP4 video (MPEG-4 Part 2, 64x48) made with PyAV."""
    codec = "mpeg4" if "mpeg4" in av.codecs_available else "libx264"
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            pixels = np.full((48, 64, 3), i * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


CLIP = mp4_bytes()


def page(video_src: str, title: str = "Destroyed T-72B3 near Robotyne") -> bytes:
    """Return an HTML page whose only media is a <video> with the given source."""
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f'<h1>{title}</h1><video controls src="{video_src}"></video></body></html>'
    ).encode()


def html(body: bytes) -> Route:
    """Return a route that answers with an HTML page."""
    return lambda h: send(h, body, content_type="text/html; charset=utf-8")


def slow_page(h: BaseHTTPRequestHandler) -> None:
    time.sleep(1.0)
    send(h, page("clip.mp4"), content_type="text/html")


def slow(h: BaseHTTPRequestHandler) -> None:
    time.sleep(1.0)
    send(h, CLIP, content_type="video/mp4")


def chunked_huge(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "video/mp4")
    h.end_headers()  # no length: the body ends when the connection closes
    for _ in range(TEST_FETCH_MAX_BYTES // 1000 + 10):
        h.wfile.write(b"\0" * 1000)


@pytest.fixture
def other() -> Iterator[list[str]]:
    """Run a server on 127.0.0.2, which the tests refuse; return the paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            send(self, CLIP, content_type="video/mp4")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    asked.append(f"http://127.0.0.2:{server.server_address[1]}")  # asked[0]: the base URL
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def site(media_server: Loopback, other: list[str]) -> Loopback:
    """Return the loopback server with video pages added to its routes."""
    elsewhere = other[0]
    media_server.routes.update(
        {
            "/clip.mp4": lambda h: send(h, CLIP, content_type="video/mp4"),
            "/page.html": lambda h: send(
                h,
                page("clip.mp4"),
                content_type="text/html",
                headers={"Set-Cookie": "session=abc; Path=/"},
            ),
            "/plain.html": html(b"<html><head><title>No video</title></head><body>Text</body>"),
            "/slow.html": slow_page,
            "/slow-video.html": html(page("/slow-clip.mp4")),
            "/slow-clip.mp4": slow,
            "/gone-video.html": html(page("/gone.mp4")),
            "/gone.mp4": lambda h: send(h, b"deleted", status=410, content_type="text/plain"),
            "/big.html": html(page("/big.mp4")),
            "/big.mp4": lambda h: send(h, b"\0" * 10, length=TEST_FETCH_MAX_BYTES + 1),
            "/stream.html": html(page("/stream.mp4")),
            "/stream.mp4": chunked_huge,
            "/inside.html": html(page(f"{elsewhere}/clip.mp4")),
            "/bounce.html": html(page("/bounce.mp4")),
            "/bounce.mp4": lambda h: send(
                h, b"", status=302, headers={"Location": f"{elsewhere}/clip.mp4"}
            ),
            "/v6.html": html(page("http://[::1]:8080/clip.mp4")),
            "/metadata.html": html(page("http://169.254.169.254/latest/clip.mp4")),
            "/named.html": html(
                page(f"http://video.test:{media_server.base.rsplit(':')[-1]}/clip.mp4")
            ),
        }
    )
    return media_server


def test_it_downloads_the_video_of_a_page(site: Loopback, tmp_path: Path) -> None:
    downloaded = run(site.url("/page.html"), tmp_dir=tmp_path, limits=FAST)
    assert downloaded.path.read_bytes() == CLIP
    assert downloaded.sha256 == hashlib.sha256(CLIP).hexdigest()
    assert downloaded.size == len(CLIP)
    assert downloaded.path.is_relative_to(tmp_path)
    # The generic extractor claims the page and hands its <video> to the html5 embed extractor.
    assert downloaded.extractor == "html5"
    assert downloaded.source_url == downloaded.final_url == site.url("/page.html")
    assert downloaded.info["title"].startswith("Destroyed T-72B3 near Robotyne")
    assert downloaded.info["ext"] == "mp4"
    assert downloaded.info["webpage_url"] == site.url("/page.html")
    assert downloaded.requests == (site.url("/page.html"), site.url("/clip.mp4"))
    assert site.requests[-1]["Cookie"] == "session=abc"  # the page's cookie, sent with the video
    assert downloaded.collected_at.utcoffset() == dt.timedelta(0)
    downloaded.discard()
    assert not downloaded.path.exists()


def test_it_downloads_a_direct_video_link(site: Loopback, tmp_path: Path) -> None:
    downloaded = run(site.url("/clip.mp4"), tmp_dir=tmp_path, limits=FAST)
    assert downloaded.path.read_bytes() == CLIP
    assert downloaded.extractor == "generic"
    assert set(downloaded.requests) == {site.url("/clip.mp4")}


def test_it_connects_to_the_vetted_address_and_keeps_the_name(
    site: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_as(monkeypatch, "127.0.0.1")
    downloaded = run(site.url("/named.html"), tmp_dir=tmp_path, limits=FAST, allow=ONLY_SERVER)
    assert downloaded.path.read_bytes() == CLIP
    assert site.requests[-1]["path"] == "/clip.mp4"
    assert site.requests[-1]["host"] == "video.test:" + site.base.rsplit(":")[-1]


def test_it_vets_the_address_a_name_resolves_to(
    site: Loopback, other: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_as(monkeypatch, "127.0.0.2")
    with pytest.raises(FetchRefused) as caught:
        run(site.url("/named.html"), tmp_dir=tmp_path, limits=FAST, allow=ONLY_SERVER)
    assert caught.value.details["address"] == "127.0.0.2"
    assert other[1:] == []


@pytest.mark.parametrize(
    ("path", "address"),
    [
        ("/inside.html", "127.0.0.2"),
        ("/bounce.html", "127.0.0.2"),
        ("/v6.html", "::1"),
        ("/metadata.html", "169.254.169.254"),
    ],
)
def test_it_refuses_a_video_at_an_internal_address(
    site: Loopback, other: list[str], tmp_path: Path, path: str, address: str
) -> None:
    with pytest.raises(FetchRefused) as caught:
        run(site.url(path), tmp_dir=tmp_path, limits=FAST, allow=ONLY_SERVER)
    assert caught.value.details["address"] == address
    assert other[1:] == []  # nothing reached the refused server
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_an_internal_page_before_yt_dlp_starts(site: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchRefused):
        run(site.url("/page.html"), tmp_dir=tmp_path, limits=FAST, allow=[])
    assert site.requests == []


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/gone-video.html", 410)])
def test_it_says_the_source_is_gone(site: Loopback, tmp_path: Path, path: str, status: int) -> None:
    with pytest.raises(SourceGone) as caught:
        run(site.url(path), tmp_dir=tmp_path, limits=FAST)
    assert caught.value.details["status"] == status


def test_it_fails_clearly_on_a_page_without_video(site: Loopback, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed, match="no video found") as caught:
        run(site.url("/plain.html"), tmp_dir=tmp_path, limits=FAST)
    assert type(caught.value) is FetchFailed


@pytest.mark.parametrize("path", ["/big.html", "/stream.html"])
def test_it_stops_a_video_larger_than_the_limit(site: Loopback, tmp_path: Path, path: str) -> None:
    with pytest.raises(FetchTooLarge):
        run(site.url(path), tmp_dir=tmp_path, limits=FAST)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/slow.html", "/slow-video.html"])
def test_it_times_out_on_a_slow_server(site: Loopback, tmp_path: Path, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        run(site.url(path), tmp_dir=tmp_path, limits=FAST)
    assert time.monotonic() - started < 2 * FAST.read_s + 1


def test_it_stops_at_the_total_time(site: Loopback, tmp_path: Path) -> None:
    limits = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=0.0)
    with pytest.raises(FetchTimeout, match=r"longer than 0\.0 s"):
        run(site.url("/page.html"), tmp_dir=tmp_path, limits=limits)


def test_it_gives_yt_dlp_no_other_request_handler() -> None:
    gate = Gate(allow=ONLY_SERVER, limits=FAST, deadline=time.monotonic() + 5)
    with GuardedYoutubeDL({"quiet": True}, gate=gate) as ydl:
        handlers = list(ydl._request_director.handlers.values())
    assert [type(handler) for handler in handlers] == [GuardedRH]


@pytest.mark.parametrize(
    ("url", "handled"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", True),
        ("https://x.com/someone/status/1780000000000000000", True),
        ("https://t.me/somechannel/1234", True),
        ("https://example.org/photos/tank.jpg", False),
        ("https://example.org/news/article.html", False),
    ],
)
def test_it_knows_which_urls_an_extractor_claims(
    url: str, handled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("can_handle used the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert can_handle(url) is handled


def resolve_as(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    """Make the name video.test resolve to `address` (other names resolve as usual)."""
    real = socket.getaddrinfo

    def fake(host: str, port: str | int | None, *args: Any, **kwargs: Any) -> Any:
        if host == "video.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(("ffmpeg", "hls"), [(None, True), ("/usr/bin/ffmpeg", False)])
def test_it_only_picks_formats_yt_dlp_downloads_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ffmpeg: str | None, hls: bool
) -> None:
    # With ffmpeg installed, yt-dlp hands HLS it cannot read to ffmpeg, which skips the guard.
    monkeypatch.setattr(shutil, "which", lambda name: ffmpeg)
    gate = Gate(allow=ONLY_SERVER, limits=FAST, deadline=time.monotonic() + 5)
    params = ytdlp.options(tmp_path, gate)
    assert ("m3u8" in params["format"]) is hls
    assert params["external_downloader"] == {"default": "native"}
    assert params["proxy"] == ""


def test_it_writes_nothing_to_stdout(
    site: Loopback, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    run(site.url("/page.html"), tmp_dir=tmp_path, limits=FAST)
    assert capfd.readouterr().out == ""
