"""Read WarSpotting's JSON: an API page, a list of records, or a dump written by the sync.

An API page is `{"losses": [record, ...]}`; a sync dump adds the days it holds in full,
`{"losses": [...], "dates": ["2024-03-01", ...]}`, and only for those days can a record missing
from the input be said to be gone from WarSpotting. Each record is checked field by field: one
with an unusable value is rejected with the reason, and the others still import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from attrition.importers.registry import ImportRefused
from attrition.importers.report import Rejection
from attrition.losses.choices import Fate

# WarSpotting's status names, as its API writes them (capitalised), read case-insensitively.
STATUSES = {
    "destroyed": Fate.DESTROYED,
    "damaged": Fate.DAMAGED,
    "abandoned": Fate.ABANDONED,
    "captured": Fate.CAPTURED,
}
# Longest text each field may hold, as the ledger's columns hold it.
TEXT_LIMITS = {"type": 200, "model": 200, "lost_by": 100, "nearest_location": 300, "unit": 300}
LINK_FIELDS = ("oryx_url", "sources", "photos")
MAX_TAGS = 30
MAX_TAG = 64
MAX_LINKS = 50
MAX_URL = 2000
# A record larger than this (its JSON) is refused rather than kept as a raw record.
MAX_RECORD_BYTES = 64 * 1024
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Record:
    """One WarSpotting loss record, checked, with the raw JSON it came from."""

    external_id: str
    type: str
    model: str
    fate: Fate
    lost_by: str
    date: dt.date
    place: str
    lat: float | None
    lon: float | None
    unit: str
    tags: tuple[str, ...]
    links: tuple[str, ...]
    raw: dict[str, Any]


@dataclass
class Feed:
    """What an input holds: its checked records, the ones rejected, and the days held in full."""

    source_name: str
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    dates: list[dt.date] | None = None
    notes: list[str] = field(default_factory=list)
    # Ids of rejected records: still listed by WarSpotting, so never marked as removed from it.
    rejected_ids: set[str] = field(default_factory=set)


class BadRecord(ValueError):
    """A record field holds a value the import cannot use; the message says which and why."""


def feed_decode(data: bytes, *, source_name: str) -> Feed:
    """Return the records of a WarSpotting JSON input, or raise ImportRefused if it is not one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"{source_name} is not UTF-8 text (byte {exc.start}): WarSpotting serves UTF-8 JSON"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            f"{source_name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if isinstance(document, list):
        records, dates = document, None
    elif isinstance(document, dict) and isinstance(document.get("losses"), list):
        records, dates = document["losses"], _dates(document.get("dates"), source_name)
    else:
        raise ImportRefused(
            f"{source_name} is JSON but not WarSpotting's format: expected an object with a "
            '"losses" list (an API page or a sync dump) or a list of loss records'
        )
    feed = Feed(source_name=source_name, dates=dates)
    seen: dict[str, int] = {}
    for index, item in enumerate(records):
        try:
            record = record_parse(item)
        except BadRecord as exc:
            feed.rejected.append(Rejection(_what(item, index), str(exc)))
            with contextlib.suppress(BadRecord, AttributeError):
                feed.rejected_ids.add(_id(item.get("id")))
            continue
        if record.external_id in seen:
            # Paging through a list that changes can serve a record twice: the later copy wins.
            feed.records[seen[record.external_id]] = record
            feed.notes.append(f"record {record.external_id} appears twice; the later copy is used")
            continue
        seen[record.external_id] = len(feed.records)
        feed.records.append(record)
    if dates is None:
        feed.notes.append(
            "the input does not say which days it holds in full, so no record is marked as "
            "removed from WarSpotting (a sync dump does say)"
        )
    return feed


def _dates(value: Any, source_name: str) -> list[dt.date] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ImportRefused(f'{source_name}: "dates" must be a list of YYYY-MM-DD days')
    days = []
    for item in value:
        try:
            days.append(_date(item))
        except BadRecord as exc:
            raise ImportRefused(f'{source_name}: "dates" holds a bad day: {exc}') from None
    return sorted(set(days))


def _what(item: Any, index: int) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    if isinstance(ident, int | str) and not isinstance(ident, bool) and len(str(ident)) <= 20:
        return f"record {ident}"
    return f"record #{index + 1} of the input"


def record_parse(item: Any) -> Record:
    """Return a checked record, or raise BadRecord saying what is wrong with it."""
    if not isinstance(item, dict):
        raise BadRecord(f"a record must be a JSON object, not {type(item).__name__}")
    encoded = json.dumps(item, ensure_ascii=False)
    size = len(encoded.encode())
    if size > MAX_RECORD_BYTES:
        raise BadRecord(f"the record is {size} bytes, more than {MAX_RECORD_BYTES}")
    if "\\u0000" in encoded:  # PostgreSQL stores no NUL character, in text or in JSON
        raise BadRecord("the record holds a NUL character")
    status = _text(item, "status", required=True, limit=40)
    fate = STATUSES.get(status.casefold())
    if fate is None:
        known = ", ".join(s.title() for s in STATUSES)
        raise BadRecord(f"status {status!r} is not one of WarSpotting's: {known}")
    lat, lon = _geo(item.get("geo"))
    return Record(
        external_id=_id(item.get("id")),
        type=_text(item, "type", required=True),
        model=_text(item, "model", required=True),
        fate=fate,
        lost_by=_text(item, "lost_by", required=True),
        date=_date(item.get("date")),
        place=_text(item, "nearest_location"),
        lat=lat,
        lon=lon,
        unit=_text(item, "unit"),
        tags=_tags(item.get("tags")),
        links=_links(item),
        raw=item,
    )


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRecord(f"id {_short(value)} is not a number")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise BadRecord(f"id {_short(value)} is not a positive whole number")
    return str(int(text))


def _text(item: dict[str, Any], name: str, *, required: bool = False, limit: int = 0) -> str:
    value = item.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRecord(f"{name} {_short(value)} is not text")
    text = " ".join(value.split())
    limit = limit or TEXT_LIMITS[name]
    if len(text) > limit:
        raise BadRecord(f"{name} is {len(text)} characters long, more than {limit}")
    if required and not text:
        raise BadRecord(f"{name} is missing or empty")
    return text


def _date(value: Any) -> dt.date:
    if not isinstance(value, str) or not DATE.match(value.strip()):
        raise BadRecord(f"date {_short(value)} is not a day written YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord(f"date {value!r} is not a day of the calendar") from None
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    if not EARLIEST <= day <= tomorrow:
        raise BadRecord(f"date {value!r} is in the future or before {EARLIEST.year}")
    return day


def _geo(value: Any) -> tuple[float | None, float | None]:
    """Return (lat, lon) from WarSpotting's "lat,lon" text; (None, None) when there is none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str) or len(value) > 60:
        raise BadRecord(f'geo {_short(value)} is not "latitude,longitude"')
    parts = value.split(",")
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise BadRecord(f'geo {_short(value)} is not "latitude,longitude"')
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRecord(f"geo {value!r} is off the globe (latitude -90..90, longitude -180..180)")
    return round(lat, 6), round(lon, 6)


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise BadRecord(f"tags {_short(value)} are neither text nor a list")
    tags: list[str] = []
    for tag in items:
        if not isinstance(tag, str):
            raise BadRecord(f"tag {_short(tag)} is not text")
        name = " ".join(tag.split())
        if len(name) > MAX_TAG:
            raise BadRecord(f"a tag is {len(name)} characters long, more than {MAX_TAG}")
        if name and not any(ch.isalnum() for ch in name):
            raise BadRecord(f"tag {name!r} has no letters or digits")
        if name and name not in tags:
            tags.append(name)
    if len(tags) > MAX_TAGS:
        raise BadRecord(f"the record has {len(tags)} tags, more than {MAX_TAGS}")
    return tuple(tags)


def _links(item: dict[str, Any]) -> tuple[str, ...]:
    """Return the record's evidence links: its Oryx link, its sources, its photos, in order."""
    links: list[str] = []
    for name in LINK_FIELDS:
        value = item.get(name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        for entry in values:
            url = entry.get("url") if isinstance(entry, dict) else entry
            if url is None or (isinstance(url, str) and not url.strip()):
                continue
            if not isinstance(url, str) or len(url) > MAX_URL:
                raise BadRecord(f"{name} holds {_short(url)}, not a link")
            if url.strip() not in links:
                links.append(url.strip())
    if len(links) > MAX_LINKS:
        raise BadRecord(f"the record has {len(links)} links, more than {MAX_LINKS}")
    return tuple(links)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
