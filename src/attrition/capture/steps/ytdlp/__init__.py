"""Step 3b, ytdlp: download the video of a page (YouTube, X, Telegram, TikTok, <video>) with yt-dlp.

yt-dlp runs in-process through its Python API: quiet (its messages go to Python logging), no
cache, no playlists, one file with video, nothing rewritten after the download, and every request
it makes goes through the SSRF guard (see `network`). Its failures become the project's capture
errors, chosen by their cause rather than by their message. The Python API reads no yt-dlp config
file (only the command line does), so nothing on the host changes what a capture does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.networking.exceptions import HTTPError as YtHTTPError
from yt_dlp.utils import UnsupportedError, YoutubeDLError

from attrition import config
from attrition.capture.errors import CaptureError, FetchFailed, FetchTooLarge, SourceGone
from attrition.capture.guard import Network, url_vet
from attrition.capture.steps.http_fetch import Limits
from attrition.capture.steps.ytdlp.network import CaptureStop, Gate, GuardedYoutubeDL

log = logging.getLogger(__name__)

# The fields of yt-dlp's info worth keeping in the custody record.
INFO_KEYS = (
    "id",
    "title",
    "uploader",
    "uploader_id",
    "uploader_url",
    "channel",
    "channel_id",
    "channel_url",
    "timestamp",
    "upload_date",
    "release_timestamp",
    "duration",
    "width",
    "height",
    "ext",
    "format_id",
    "webpage_url",
    "description",
)
DESCRIPTION_MAX = 5000
CHUNK = 1024 * 1024
# Protocols whose bytes yt-dlp itself downloads, through its request director. Anything else
# (rtmp, rtsp, websocket fragments, live streams) would be handed to ffmpeg or rtmpdump, which
# connect without the guard. With ffmpeg installed, HLS and DASH are left out too: yt-dlp's
# native HLS downloader hands streams it cannot read to ffmpeg.
HTTP_ONLY = "[protocol~='^https?$']"
NATIVE = "[protocol~='^(https?|m3u8|m3u8_native|http_dash_segments)$']"
FORMAT_WITH_FFMPEG = f"b{HTTP_ONLY}/bv*{HTTP_ONLY}+ba{HTTP_ONLY}/bv*{HTTP_ONLY}"
FORMAT_WITHOUT_FFMPEG = f"b{NATIVE}/bv*{NATIVE}"


@dataclass(frozen=True)
class Downloaded:
    """The video file yt-dlp downloaded (in a temporary directory), and how it was obtained."""

    source_url: str
    final_url: str
    path: Path
    sha256: str
    size: int
    collected_at: dt.datetime
    extractor: str
    info: dict[str, Any]
    requests: tuple[str, ...]

    def discard(self) -> None:
        """Remove the file and its private directory (after it has been stored, or on failure)."""
        shutil.rmtree(self.path.parent, ignore_errors=True)


class YtdlpLog:
    """yt-dlp's logger: its messages go to Python logging, never to stdout or stderr."""

    def debug(self, msg: str) -> None:
        """Log a debug or progress message."""
        log.debug("%s", msg)

    def info(self, msg: str) -> None:
        """Log an informational message."""
        log.info("%s", msg)

    def warning(self, msg: str) -> None:
        """Log a warning."""
        log.warning("%s", msg)

    def error(self, msg: str) -> None:
        """Log an error (it is also raised, and becomes a capture error)."""
        log.info("%s", msg)


@cache
def extractors() -> tuple[Any, ...]:
    """Return yt-dlp's extractor classes, the generic one excepted."""
    return tuple(ie for ie in gen_extractor_classes() if ie.ie_key() != "Generic")


def can_handle(url: str) -> bool:
    """Return whether a yt-dlp extractor other than the generic one claims the URL (no network)."""
    return any(ie.suitable(url) for ie in extractors())


def run(
    url: str,
    *,
    tmp_dir: Path,
    limits: Limits | None = None,
    allow: Sequence[Network] | None = None,
) -> Downloaded:
    """Return the video yt-dlp downloads for a URL (every request vetted), or raise CaptureError."""
    limits = limits or Limits.from_settings()
    allow = tuple(config.FETCH_ALLOW.read() if allow is None else allow)
    url_vet(url, allow=allow)  # refused before yt-dlp starts
    gate = Gate(allow=allow, limits=limits, deadline=time.monotonic() + limits.total_s)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ytdlp-", dir=tmp_dir))
    try:
        info = extract(url, work=work, gate=gate)
        return downloaded(url, info, work=work, gate=gate)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def options(work: Path, gate: Gate) -> dict[str, Any]:
    """Return the YoutubeDL parameters of a capture into the directory `work`."""
    return {
        "logger": YtdlpLog(),
        "quiet": True,
        "noprogress": True,
        "color": "no_color",
        "warn_when_outdated": False,
        "cachedir": False,
        "paths": {"home": str(work), "temp": str(work)},
        "outtmpl": {"default": "media.%(ext)s"},
        "restrictfilenames": True,
        "overwrites": True,
        "updatetime": False,
        "noplaylist": True,
        "playlist_items": "1",
        "format": FORMAT_WITH_FFMPEG if shutil.which("ffmpeg") else FORMAT_WITHOUT_FFMPEG,
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "fixup": "never",  # the file as received: yt-dlp's fixups rewrite it with ffmpeg
        "match_filter": gate.match,
        "progress_hooks": [gate.progress],
        "max_filesize": gate.limits.max_bytes,
        "socket_timeout": gate.limits.read_s,
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "file_access_retries": 0,
        "proxy": "",  # no proxy from the environment: the guard must see where connections go
        "js_runtimes": {"deno": {}},  # deno runs YouTube's player code without network access
    }


def extract(url: str, *, work: Path, gate: Gate) -> dict[str, Any]:
    """Return yt-dlp's JSON-safe info for a URL after downloading its video into `work`."""
    try:
        with GuardedYoutubeDL(options(work, gate), gate=gate) as ydl:
            info = ydl.extract_info(url, download=True)
            return dict(ydl.sanitize_info(info) or {})
    except CaptureStop as exc:
        raise exc.error from None
    except YoutubeDLError as exc:
        raise failure(exc, url=url, gate=gate) from None


def downloaded(url: str, info: dict[str, Any], *, work: Path, gate: Gate) -> Downloaded:
    """Return the Downloaded record of yt-dlp's result, hashing its file."""
    entry = first_video(info)
    files = (entry or {}).get("requested_downloads") or []
    if entry is None or not files:
        why = gate.skipped[-1] if gate.skipped else "yt-dlp downloaded nothing"
        raise FetchFailed(f"no video downloaded from {url}: {why}", details={"url": url})
    path = Path(files[0].get("filepath") or "")
    if not path.is_file() or not path.resolve().is_relative_to(work.resolve()):
        raise FetchFailed(f"yt-dlp left no file for {url}", details={"url": url})
    sha256, size = file_digest(path)
    if size > gate.limits.max_bytes:
        raise FetchTooLarge(
            f"the video of {url} is {size} bytes, more than the limit of {gate.limits.max_bytes}",
            details={"url": url, "size": size, "limit": gate.limits.max_bytes},
        )
    if size == 0:
        raise FetchFailed(f"yt-dlp downloaded an empty file from {url}", details={"url": url})
    return Downloaded(
        source_url=url,
        final_url=str(entry.get("webpage_url") or url),
        path=path,
        sha256=sha256,
        size=size,
        collected_at=gate.finished_at or dt.datetime.now(dt.UTC),
        extractor=str(entry.get("extractor") or ""),
        info=kept_info(entry),
        requests=tuple(gate.requests),
    )


def first_video(info: dict[str, Any]) -> dict[str, Any] | None:
    """Return the first video of yt-dlp's result (itself, or the first entry of a playlist)."""
    if info.get("_type") not in ("playlist", "multi_video"):
        return info
    for entry in info.get("entries") or []:
        if isinstance(entry, dict) and (found := first_video(entry)) is not None:
            return found
    return None


def kept_info(entry: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON-safe fields of yt-dlp's info worth keeping, the description truncated."""
    kept: dict[str, Any] = {}
    for key in INFO_KEYS:
        value = entry.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            kept[key] = value
    if isinstance(kept.get("description"), str):
        kept["description"] = kept["description"][:DESCRIPTION_MAX]
    return kept


def file_digest(path: Path) -> tuple[str, int]:
    """Return the SHA-256 (hex) and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def failure(exc: YoutubeDLError, *, url: str, gate: Gate) -> CaptureError:
    """Return the capture error for a yt-dlp failure, by the cause it wraps."""
    for cause in causes(exc):
        if isinstance(cause, CaptureError):
            return cause
        if isinstance(cause, YtHTTPError):
            where = cause.response.url or url
            details = {"url": where, "status": cause.status}
            if cause.status in (404, 410):
                return SourceGone(
                    f"{where} answered {cause.status}: the source is gone", details=details
                )
            return FetchFailed(f"{where} answered {cause.status}", details=details)
        if isinstance(cause, UnsupportedError):
            return FetchFailed(
                f"no video found at {url}: no yt-dlp extractor supports it", details={"url": url}
            )
    if gate.failures:  # yt-dlp's retry reporting drops the cause; the handler kept it
        return gate.failures[-1]
    message = str(getattr(exc, "msg", None) or exc).removeprefix("ERROR: ")
    return FetchFailed(f"yt-dlp could not download {url}: {message}", details={"url": url})


def causes(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and the exceptions it wraps (yt-dlp's `cause` and `exc_info`)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        linked = (
            getattr(current, "cause", None),
            exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None,
            current.__cause__,
        )
        todo.extend(e for e in linked if isinstance(e, BaseException))
