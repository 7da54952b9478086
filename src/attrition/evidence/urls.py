"""URL canonicalisation: the one form under which a piece of evidence is kept, and typo hosts.

Pure functions only. `url_canonical` never raises on a string: what it cannot parse it returns
with only the scheme lower-cased, so that canonical(canonical(u)) == canonical(u) always holds.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only track who shared a link, on every host.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "mibextid",
    }
)
TRACKING_PREFIXES = ("utm_",)

# Host -> the one host it is an alias of (after lower-casing, without a trailing dot).
HOST_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        [
            "twitter.com",
            "www.twitter.com",
            "mobile.twitter.com",
            "m.twitter.com",
            "fxtwitter.com",
            "www.fxtwitter.com",
            "vxtwitter.com",
            "www.vxtwitter.com",
            "fixupx.com",
            "fixvx.com",
            "www.x.com",
            "mobile.x.com",
        ],
        "x.com",
    ),
    **dict.fromkeys(
        ["youtube.com", "m.youtube.com", "youtu.be", "www.youtu.be", "youtube-nocookie.com"],
        "www.youtube.com",
    ),
    "www.youtube-nocookie.com": "www.youtube.com",
    **dict.fromkeys(["telegram.me", "www.telegram.me", "www.t.me"], "t.me"),
    **dict.fromkeys(
        [
            "facebook.com",
            "m.facebook.com",
            "mobile.facebook.com",
            "mbasic.facebook.com",
            "web.facebook.com",
            "touch.facebook.com",
        ],
        "www.facebook.com",
    ),
    **dict.fromkeys(["instagram.com", "m.instagram.com"], "www.instagram.com"),
    **dict.fromkeys(["tiktok.com", "m.tiktok.com"], "www.tiktok.com"),
    **dict.fromkeys(["www.imgur.com", "m.imgur.com"], "imgur.com"),
}

# Canonical platform hosts: always https, and their own share-tracking parameters dropped.
HOST_TRACKING_PARAMS: dict[str, frozenset[str]] = {
    "x.com": frozenset({"s", "t"}),
    "www.youtube.com": frozenset({"feature", "si", "pp", "ab_channel"}),
    "t.me": frozenset(),
    "www.facebook.com": frozenset({"rdid", "sfnsn", "__tn__"}),
    "www.instagram.com": frozenset(),
    "www.tiktok.com": frozenset({"_r", "_t", "is_from_webapp", "sender_device", "si"}),
    "imgur.com": frozenset(),
    "i.postimg.cc": frozenset(),
    "postimg.cc": frozenset(),
}

# Platform hosts whose pages are the same without a trailing slash (a post, a photo).
SLASHLESS_HOSTS = frozenset({"x.com", "t.me", "i.postimg.cc", "postimg.cc", "imgur.com"})

# Hosts of the platforms evidence comes from: a host one or two edits away is probably a typo.
KNOWN_HOSTS = (
    "twitter.com",
    "youtube.com",
    "facebook.com",
    "instagram.com",
    "telegram.me",
    "tiktok.com",
    "postimg.cc",
    "postimg.org",
    "postimages.org",
    "imgur.com",
    "imgbox.com",
    "reddit.com",
)

YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_VIDEO_PATH = re.compile(r"^/(?:shorts|embed|live|v)/([^/]+)/?$")
# Telegram names: 5 to 32 characters, a letter first (so "/s/s/1" is not a preview link).
TELEGRAM_PREVIEW_PATH = re.compile(r"^/s/([A-Za-z][A-Za-z0-9_]{3,31}(?:/[0-9]+)?)/?$")


@dataclass(frozen=True)
class UrlForms:
    """A URL as given, its canonical form, and the known host it probably misspells, if any."""

    original: str
    canonical: str
    typo_of: str | None


def url_forms(url: str) -> UrlForms:
    """Return the original URL, its canonical form and any likely typo in its host."""
    canonical = url_canonical(url)
    host = urlsplit_safe(canonical)
    return UrlForms(
        original=url,
        canonical=canonical,
        typo_of=host_typo_of(host.hostname or "") if host is not None else None,
    )


def urlsplit_safe(url: str) -> _Split | None:
    """Return the parts of a URL, or None if Python cannot split it."""
    try:
        parts = urlsplit(url)
        return _Split(parts.scheme, parts.netloc, parts.path, parts.query, parts.hostname)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Split:
    scheme: str
    netloc: str
    path: str
    query: str
    hostname: str | None


def url_canonical(url: str) -> str:
    """Return the canonical form of a URL: aliases folded, tracking and fragment dropped."""
    url = url.strip()
    parts = urlsplit_safe(url)
    host, port = host_port(parts.netloc) if parts is not None else ("", "")
    if parts is None or parts.scheme.lower() not in DEFAULT_PORTS or not host:
        # Nothing that could be fetched: only the scheme's case is changed.
        scheme, sep, rest = url.partition(":")
        return f"{scheme.lower()}{sep}{rest}" if sep else url
    scheme = parts.scheme.lower()
    host = HOST_ALIASES.get(host, host)
    path = parts.path or "/"
    query = [p for p in parts.query.split("&") if p and not is_tracking(p, host)]

    if host in HOST_TRACKING_PARAMS:
        scheme, port = "https", ""
    if host in SLASHLESS_HOSTS:
        path = path.rstrip("/") or "/"
    if host == "www.youtube.com":
        path, query = youtube_video(parts, path, query)
    elif host == "t.me":
        preview = TELEGRAM_PREVIEW_PATH.match(path)
        if preview:
            path = "/" + preview[1]
    if port and port == str(DEFAULT_PORTS[scheme]):
        port = ""
    netloc = f"{host}:{port}" if port else host
    # Stripped again: whitespace before a dropped fragment or parameter is now at the end.
    return urlunsplit((scheme, netloc, path, "&".join(query), "")).strip()


def host_port(netloc: str) -> tuple[str, str]:
    """Return the lower-case IDNA host and the port (digits, without leading zeros) of a netloc."""
    hostport = netloc.rpartition("@")[2]  # credentials never belong in an evidence URL
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host, port = host + "]", rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":") if hostport.count(":") == 1 else (hostport, "", "")
    if port.isascii() and port.isdigit():
        port = str(int(port))
    host = host.lower().rstrip(".")
    if not host.isascii():
        # Kept as it is if it is no valid name: the guard refuses what cannot be resolved.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host, port


def is_tracking(param: str, host: str) -> bool:
    """Return whether a query parameter (`name=value`) only tracks the share."""
    name = unquote(param.partition("=")[0]).lower()
    return (
        name in TRACKING_PARAMS
        or name.startswith(TRACKING_PREFIXES)
        or name in HOST_TRACKING_PARAMS.get(host, frozenset())
    )


def youtube_video(parts: _Split, path: str, query: list[str]) -> tuple[str, list[str]]:
    """Return the path and query of YouTube's watch URL for a video link, else those given."""
    video: str | None = None
    short = (parts.hostname or "").rstrip(".") in {"youtu.be", "www.youtu.be"}
    if short and YOUTUBE_ID.match(path.strip("/")):
        video = path.strip("/")
    elif match := YOUTUBE_VIDEO_PATH.match(path):
        video = match[1]
    elif path == "/watch":
        ids = [p.partition("=")[2] for p in query if p.partition("=")[0] == "v"]
        video = ids[0] if ids else None
    if video is None or not YOUTUBE_ID.match(video):
        return path, query
    return "/watch", [f"v={video}"]


def host_typo_of(host: str) -> str | None:
    """Return the known platform host that `host` probably misspells, or None."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) < 2:
        return None
    domain = ".".join(labels[-2:])
    if domain in KNOWN_HOSTS or any(host.endswith("." + k) or host == k for k in KNOWN_HOSTS):
        return None
    for known in KNOWN_HOSTS:
        if domain.split(".")[0] == known.split(".")[0]:
            continue  # the same name under another top-level domain (youtube.de) is real
        limit = 1 if len(known) < 11 else 2
        if edit_distance(domain, known, limit) <= limit:
            return known
    return None


def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the optimal-string-alignment distance of a and b, or limit + 1 if it exceeds it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]
