"""Step 3c, page: what a fetched HTML page says about itself (title, date, author, its media).

The page is read from its file, at most READ_MAX bytes of it, decoded by the encoding its HTTP
header gave, else its BOM or <meta charset>, else a strict UTF-8 attempt and Windows-1252, and
parsed by BeautifulSoup with lxml, which copes with broken HTML. Every URL is made absolute
against the page (or its <base href>); only http(s) URLs are kept, so data: and javascript: URLs
never come out of it. Bytes that are not HTML raise BadMedia.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning
from bs4.dammit import UnicodeDammit

from attrition.capture.errors import BadMedia

READ_MAX = 5 * 1024 * 1024
SNIFF = 64 * 1024
MIN_IMAGE_PX = 200
TEXT_MAX = 5000
LINKED_DATA_MAX = 1024 * 1024
BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Tags that make a document HTML wherever they appear near its start...
HTML_MARK = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>/]", re.I)
# ...and tags that do when the document starts with markup.
TAG_MARK = re.compile(
    rb"<(?:meta|title|link|script|style|div|p|a|img|video|article|section|span|table|!--)[\s>/]",
    re.I,
)
BACKGROUND = re.compile(r"background(?:-image)?\s*:[^;]*?url\(\s*['\"]?([^'\")]+)", re.I)
URL_NOISE = re.compile(r"[\t\n\r]")
OG_VIDEO = ("og:video", "og:video:url", "og:video:secure_url", "twitter:player:stream")
OG_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
)
LAZY_SRC = ("src", "data-src", "data-original", "data-lazy-src")


@dataclass(frozen=True)
class MediaRef:
    """A picture or video the page shows: its absolute URL, its kind, and where it was named."""

    url: str
    kind: str  # "image" or "video"
    source: str  # e.g. "og:image", "video", "video source", "img"


@dataclass(frozen=True)
class PageFacts:
    """What a page says about itself."""

    title: str
    description: str
    canonical_url: str
    site_name: str
    author: str
    published_at: dt.datetime | None
    media: tuple[MediaRef, ...]


def run(
    *, path: Path, base_url: str, encoding: str | None = None, max_media: int = 50
) -> PageFacts:
    """Return the facts of the HTML page in `path` fetched from `base_url`, or raise BadMedia."""
    data = head(path)
    html_check(data, path)
    soup = parse(data, encoding)
    base = base_of(soup, base_url)
    meta = meta_map(soup)
    linked = LinkedData.of(soup)
    title_tag = soup.find("title")
    return PageFacts(
        title=first_text(
            *meta.get("og:title", []),
            *meta.get("twitter:title", []),
            title_tag.get_text() if title_tag else "",
            linked.headline,
        ),
        description=first_text(
            *meta.get("og:description", []),
            *meta.get("description", []),
            *meta.get("twitter:description", []),
        ),
        canonical_url=canonical(soup, meta, base),
        site_name=first_text(
            *meta.get("og:site_name", []), *meta.get("application-name", []), linked.publisher
        ),
        author=first_text(
            *meta.get("author", []),
            *meta.get("article:author", []),
            linked.author,
            *meta.get("twitter:creator", []),
            *(tag.get_text() for tag in soup.find_all(itemprop="author", limit=3)),
        ),
        published_at=published(soup, meta, linked),
        media=media(soup, meta, base, max_media),
    )


def head(path: Path) -> bytes:
    """Return the first READ_MAX bytes of a file, cut after its last tag if it is longer."""
    with path.open("rb") as fh:
        data = fh.read(READ_MAX + 1)
    if len(data) > READ_MAX:
        data = data[:READ_MAX]
        end = data.rfind(b">")
        if end > 0:
            data = data[: end + 1]  # never half a multi-byte character
    return data


def html_check(data: bytes, path: Path) -> None:
    """Raise BadMedia unless the bytes look like an HTML document."""
    sniff = data[:SNIFF]
    for bom, name in zip(BOMS, ("utf-8", "utf-16-le", "utf-16-be"), strict=True):
        if sniff.startswith(bom):
            sniff = sniff[len(bom) :].decode(name, "replace").encode("utf-8", "replace")
            break
    if not sniff.strip():
        raise BadMedia(f"{path.name} is empty, not an HTML page")
    if b"\0" in sniff[:1024]:
        raise BadMedia(f"{path.name} is binary, not an HTML page")
    if HTML_MARK.search(sniff) or (sniff.lstrip().startswith(b"<") and TAG_MARK.search(sniff)):
        return
    raise BadMedia(f"{path.name} is not an HTML page")


def parse(data: bytes, encoding: str | None) -> BeautifulSoup:
    """Return the parsed page, decoded by the first encoding that fits it."""
    declared = [] if data.startswith(BOMS) or not encoding else [encoding.strip()]
    # The fallbacks are given explicitly, so that no charset detector that happens to be
    # installed (chardet, charset-normalizer) guesses before them and makes results vary.
    text = UnicodeDammit(
        data,
        known_definite_encodings=declared,
        user_encodings=["utf-8", "windows-1252"],
        is_html=True,
    ).unicode_markup
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(text or "", "lxml")


def absolute(raw: Any, base: str) -> str | None:
    """Return a URL made absolute against `base` if it is http(s), else None."""
    if not isinstance(raw, str):
        return None
    value = URL_NOISE.sub("", raw).strip()  # browsers ignore tabs and newlines in URLs
    if not value:
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def base_of(soup: BeautifulSoup, base_url: str) -> str:
    """Return the URL relative links resolve against: <base href> if any, else the page's."""
    tag = soup.find("base", href=True)
    if isinstance(tag, Tag):
        return absolute(tag.get("href"), base_url) or base_url
    return base_url


def attr(tag: Tag, name: str) -> str:
    """Return an attribute of a tag as one string ("" if absent)."""
    value = tag.get(name)
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def meta_map(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Return the page's <meta> contents by lower-cased property, name or itemprop, in order."""
    found: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        key = (attr(tag, "property") or attr(tag, "name") or attr(tag, "itemprop")).strip().lower()
        content = attr(tag, "content").strip()
        if key and content:
            found.setdefault(key, []).append(content)
    return found


def clean(text: str, limit: int = TEXT_MAX) -> str:
    """Return text with its whitespace collapsed, cut to `limit` characters."""
    return " ".join(text.split())[:limit]


def first_text(*candidates: str) -> str:
    """Return the first candidate that is not blank, cleaned."""
    for candidate in candidates:
        if text := clean(candidate):
            return text
    return ""


def canonical(soup: BeautifulSoup, meta: dict[str, list[str]], base: str) -> str:
    """Return the page's canonical URL (<link rel=canonical>, else og:url), absolute, or ""."""
    for link in soup.find_all("link", href=True):
        is_canonical = "canonical" in attr(link, "rel").lower().split()
        if is_canonical and (url := absolute(link.get("href"), base)):
            return url
    for value in meta.get("og:url", []):
        if url := absolute(value, base):
            return url
    return ""


def moment(text: str) -> dt.datetime | None:
    """Return the UTC time an ISO 8601 or RFC 2822 date string names, or None."""
    value = text.strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def published(
    soup: BeautifulSoup, meta: dict[str, list[str]], linked: LinkedData
) -> dt.datetime | None:
    """Return when the page says it was published, from the most explicit statement it makes."""
    candidates: list[str] = [*meta.get("article:published_time", [])]
    for tag in soup.find_all(itemprop="datePublished", limit=3):
        candidates += [attr(tag, "content"), attr(tag, "datetime")]
    candidates.append(linked.published)
    for key in PUBLISHED_META[1:]:
        candidates += meta.get(key, [])
    candidates += [attr(tag, "datetime") for tag in soup.find_all("time", limit=3)]
    for candidate in candidates:
        if (when := moment(candidate)) is not None:
            return when
    return None


def media(
    soup: BeautifulSoup, meta: dict[str, list[str]], base: str, max_media: int
) -> tuple[MediaRef, ...]:
    """Return the page's media, without duplicates: og:video and og:image, <video>, then <img>."""
    found: dict[str, MediaRef] = {}
    for url, kind, source in media_candidates(soup, meta, base):
        if len(found) >= max_media:
            break
        if url not in found:
            found[url] = MediaRef(url=url, kind=kind, source=source)
    return tuple(found.values())


def media_candidates(
    soup: BeautifulSoup, meta: dict[str, list[str]], base: str
) -> Iterator[tuple[str, str, str]]:
    """Yield (absolute URL, kind, source) for every media reference, in the order they count."""
    for kind, keys in (("video", OG_VIDEO), ("image", OG_IMAGE)):
        for key in keys:
            for value in meta.get(key, []):
                yield from with_url(absolute(value, base), kind, key)
    for video in soup.find_all("video"):
        yield from with_url(absolute(attr(video, "src"), base), "video", "video")
        for source in video.find_all("source"):
            yield from with_url(absolute(attr(source, "src"), base), "video", "video source")
        yield from with_url(absolute(attr(video, "poster"), base), "image", "video poster")
    for img in soup.find_all("img"):
        if big_enough(img):
            # Lazy-loading pages put a placeholder (often a data: URL) in src, the image elsewhere.
            urls = (absolute(attr(img, name), base) for name in LAZY_SRC)
            yield from with_url(next(filter(None, urls), None), "image", "img")
    for tag in soup.find_all(style=BACKGROUND):
        if match := BACKGROUND.search(attr(tag, "style")):
            yield from with_url(absolute(match.group(1), base), "image", "background-image")


def with_url(url: str | None, kind: str, source: str) -> Iterator[tuple[str, str, str]]:
    """Yield (url, kind, source) once if there is a URL, else nothing."""
    if url is not None:
        yield url, kind, source


def pixels(value: str) -> int | None:
    """Return a width or height attribute in pixels, or None if it is not a plain number."""
    match = re.fullmatch(r"\s*(\d{1,6})(?:\.\d+)?\s*(?:px)?\s*", value)
    return int(match.group(1)) if match else None


def big_enough(img: Tag) -> bool:
    """Return whether an <img> may be content: no size given, or a side of MIN_IMAGE_PX or more."""
    sizes = [p for p in (pixels(attr(img, "width")), pixels(attr(img, "height"))) if p is not None]
    return not sizes or max(sizes) >= MIN_IMAGE_PX


@dataclass(frozen=True)
class LinkedData:
    """What the page's JSON-LD (schema.org) says: headline, author, publisher, publication date."""

    headline: str = ""
    author: str = ""
    publisher: str = ""
    published: str = ""

    @classmethod
    def of(cls, soup: BeautifulSoup) -> LinkedData:
        """Return the first value of each field found in the page's ld+json scripts."""
        found: dict[str, str] = {}
        for script in soup.find_all("script", type=re.compile(r"ld\+json", re.I)):
            text = script.string or ""
            if len(text) > LINKED_DATA_MAX:
                continue
            try:
                document = json.loads(text)
            except ValueError:
                continue
            for node in nodes(document):
                for field, key in (
                    ("headline", "headline"),
                    ("author", "author"),
                    ("publisher", "publisher"),
                    ("published", "datePublished"),
                ):
                    if field not in found and (value := name_of(node.get(key))):
                        found[field] = value
        return cls(**found)


def nodes(document: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Yield the objects of a JSON-LD document: top level, lists and @graph, a few levels deep."""
    if depth > 4:
        return
    if isinstance(document, list):
        for item in document[:100]:
            yield from nodes(item, depth + 1)
    elif isinstance(document, dict):
        yield document
        yield from nodes(document.get("@graph"), depth + 1)


def name_of(value: Any) -> str:
    """Return a JSON-LD value as text: a string, the name of a thing, or the names of a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return name_of(value.get("name"))
    if isinstance(value, list):
        return ", ".join(filter(None, (name_of(item) for item in value[:10])))
    return ""
