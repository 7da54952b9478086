"""Read the Oryx-derived CSV set (scarnecchia/oryx_data) into items, with what is wrong in it.

Pure reading: no database. The set is several files: `event_{destroyed,damaged,abandoned,
captured}.csv` (one row per evidence link and state: `country, origin, system, status, url,
date_recorded, sysID, imageID, statusID, matID`), `totals_by_type.csv` (Oryx's stated totals per
equipment type) and `daily_count.csv` (the same totals day by day). What the columns mean, as the
data shows: `imageID` numbers a URL (one id per URL); `sysID` numbers a `system` string, which
the scraper often wrote with the model line's count in front ("100 T-80U", "101 T-80U" are two
sysIDs); `matID` is `<country calling code>-<sysID><imageID><statusID>`. None of them is stable
across a model line's count changing, so an item is keyed by side, model name without its count,
and URL. The rows of one link and model are one item with several states.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from attrition.importers.registry import MAX_INPUT_BYTES, ImportRefused
from attrition.losses.choices import Fate

EVENT_FILES = {fate.value: f"event_{fate.value}.csv" for fate in Fate}
TOTALS_FILE = "totals_by_type.csv"
DAILY_FILE = "daily_count.csv"
COLUMNS = (
    "country",
    "origin",
    "system",
    "status",
    "url",
    "date_recorded",
    "sysID",
    "imageID",
    "statusID",
    "matID",
)
TOTALS_COLUMNS = ("country", "equipment_type", "destroyed", "abandoned", "captured", "damaged")
# Oryx's multi-state labels on the stored pages always run in this order ("damaged and
# captured", "damaged and abandoned", "abandoned and destroyed", "captured and later destroyed",
# "damaged, abandoned and destroyed"); the CSV drops the order, so it is put back by this one.
CHRONOLOGY = [Fate.DAMAGED, Fate.ABANDONED, Fate.CAPTURED, Fate.DESTROYED]
# "100 T-80U": the model line's count, glued to the name by the scraper.
COUNT_PREFIX = re.compile(r"^(?P<count>\d+)\s+(?=\S)")
# A date in an evidence file name: "...-destr-29-08-22.jpg", "2022-11-12-Kam-AZ.jpg".
FILE_DATE = re.compile(r"(?<!\d)(\d{1,4})[-_.](\d{1,2})[-_.](\d{2}|\d{4})(?!\d)")
URL_IN_TEXT = re.compile(r"\S*https?://\S+")
# Hosts the set links to; a host a letter or two away from one of these is a typo of it.
KNOWN_HOSTS = ("i.postimg.cc", "postimg.cc", "twitter.com", "x.com", "t.me", "imgur.com")
# Misspelt hosts seen in the set, each with the one host it can only mean (a subdomain such as
# i.postlmg.cc is repaired too). A misspelling not in this table is still rejected.
TYPO_HOSTS = {
    "postlmg.cc": "postimg.cc",
    "postimq.cc": "postimg.cc",
    "twiter.com": "twitter.com",
    "twtter.com": "twitter.com",
    "twittter.com": "twitter.com",
}


@dataclass(frozen=True)
class Row:
    """One row of an event file, where it is, and its URL as it will be used."""

    file: str
    line: int
    country: str
    origin: str
    system: str
    model: str
    count_prefix: int | None
    fate: Fate
    url: str
    written_url: str
    recorded: dt.date
    mat_id: str
    image_id: str

    def where(self) -> str:
        """Return e.g. "event_destroyed.csv row 12"."""
        return f"{self.file} row {self.line}"


@dataclass
class Item:
    """One physical item: the rows of one link and model, with its states in order."""

    country: str
    model: str
    url: str
    rows: list[Row] = field(default_factory=list)

    @cached_property
    def states(self) -> list[Fate]:
        """Return the item's states in Oryx's order; the last one is what it is counted as."""
        return sorted({row.fate for row in self.rows}, key=CHRONOLOGY.index)

    @cached_property
    def first_seen(self) -> dt.date:
        """Return the day the scraper first listed the link (its date_recorded)."""
        return min(row.recorded for row in self.rows)

    @cached_property
    def file_date(self) -> dt.date | None:
        """Return the date the evidence file's name gives, if it gives one before first seen."""
        return file_name_date(self.url, latest=self.first_seen)

    @cached_property
    def several(self) -> int | None:
        """Return how many items the file name says the link shows ("2x-T-72b3"), if over 1."""
        name = file_name(self.url).lower()
        counts = [int(n) for n in re.findall(r"(?<![a-z0-9])(\d)x(?=[-_])", name)]
        return max(counts) if counts and max(counts) > 1 else None


@dataclass(frozen=True)
class Total:
    """A total Oryx states for one side and equipment type (or all of them)."""

    country: str
    kind: str
    by_fate: dict[str, int]
    total: int


@dataclass
class Dataset:
    """The set as read: items, stated totals and their day, and every problem with its row."""

    source_name: str
    items: list[Item]
    totals: list[Total]
    totals_date: dt.date | None
    rows: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Event files the input lacks: then it is not the whole set.
    events_missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def file_name(url: str) -> str:
    """Return the last segment of a URL's path ("1005-T-80-U-destr-29-08-22.jpg")."""
    return url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def file_name_date(url: str, *, latest: dt.date) -> dt.date | None:
    """Return the last date in a URL's file name (d-m-y, y-m-d, or m-d-y) not after `latest`."""
    name = file_name(url)
    for match in reversed(list(FILE_DATE.finditer(name))):
        a, b, c = match.groups()
        if len(a) == 4:
            candidates = [(int(a), int(b), int(c))]
        elif len(a) <= 2:
            year = int(c) + (2000 if len(c) == 2 else 0)
            candidates = [(year, int(b), int(a)), (year, int(a), int(b))]
        else:
            continue
        for year, month, day in candidates:
            try:
                found = dt.date(year, month, day)
            except ValueError:
                continue
            if dt.date(2000, 1, 1) <= found <= latest:
                return found
    return None


def url_checked(written: str) -> tuple[str | None, str]:
    """Return (the URL to use, a warning) for a URL cell, or (None, why it is unusable)."""
    text = written.strip()
    if not text:
        return None, "the URL is empty"
    warning = ""
    if re.search(r"\s", text):
        found = URL_IN_TEXT.findall(text)
        if len(found) != 1:
            return None, f"free text, not one URL: {text[:80]!r}"
        warning = f"free text around the URL ({text[:60]!r}): the URL in it was used"
        text = found[0]
    if text.count("://") > 1 or re.search(r"[a-z]https?:", text[4:], re.I):
        return None, f"two URLs run together: {text[:80]!r}"
    scheme, _, rest = text.partition("://")
    if not rest:
        return None, f"not a URL (no scheme): {text[:80]!r}"
    if scheme.lower() not in {"http", "https"}:
        if difflib.get_close_matches(scheme.lower(), ["https"], n=1, cutoff=0.7):
            warning = _also(warning, f"scheme {scheme!r} read as https")
            text = f"https://{rest}"
        else:
            return None, f"not an http(s) URL: {text[:80]!r}"
    host = (urlsplit(text).hostname or "").lower()
    if not host or "." not in host:
        return None, f"no host in {text[:80]!r}"
    repaired = host_repaired(host)
    if repaired != host:
        split = urlsplit(text)
        netloc = split.netloc.lower().replace(host, repaired, 1)
        text = split._replace(netloc=netloc).geturl()
        warning = _also(warning, f"misspelt host {host!r} repaired to {repaired!r}")
        host = repaired
    if host not in KNOWN_HOSTS:
        close = difflib.get_close_matches(host, KNOWN_HOSTS, n=1, cutoff=0.85)
        if close:
            return None, f"host {host!r} looks like a misspelling of {close[0]!r}: {text[:80]!r}"
    return text, warning


def host_repaired(host: str) -> str:
    """Return the host with a known misspelling (TYPO_HOSTS) repaired, else the host as it is."""
    for typo, right in TYPO_HOSTS.items():
        if host == typo or host.endswith("." + typo):
            return host[: len(host) - len(typo)] + right
    return host


def _also(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ImportRefused(f"{name} is binary, not a CSV file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"{name} is not UTF-8 text (byte {exc.start} is invalid): convert it first"
        ) from None


def _table(name: str, data: bytes, required: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """Return a CSV file's header and rows, refusing a file without the required columns."""
    text = _decode(name, data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRefused(f"{name} is not a readable CSV file ({exc})") from None
    if not rows:
        raise ImportRefused(f"{name} is empty: it has no header row")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRefused(
            f"{name} lacks the column(s) {', '.join(missing)} (its header: "
            f"{', '.join(header)[:200]}): not an oryx_data file"
        )
    return header, rows[1:]


def _event_rows(name: str, fate: Fate, data: bytes, dataset: Dataset) -> list[Row]:
    header, table = _table(name, data, COLUMNS)
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        dataset.notes.append(f"{name}: column(s) {', '.join(extra)} ignored")
    at = {c: header.index(c) for c in COLUMNS}
    rows = []
    for line, cells in enumerate(table, start=2):
        where = f"{name} row {line}"
        if not any(c.strip() for c in cells):
            continue
        dataset.rows += 1
        if len(cells) != len(header):
            dataset.rejected.append((where, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        value = {c: cells[i].strip() for c, i in at.items()}
        if value["status"].lower() != fate.value:
            dataset.rejected.append(
                (where, f"status {value['status']!r} in the file of {fate.value} rows")
            )
            continue
        try:
            recorded = dt.date.fromisoformat(value["date_recorded"])
        except ValueError:
            dataset.rejected.append((where, f"date_recorded {value['date_recorded']!r}"))
            continue
        url, problem = url_checked(cells[at["url"]])
        if url is None:
            dataset.rejected.append((where, problem))
            continue
        if problem:
            dataset.warnings.append(f"{where}: {problem}")
        system = " ".join(value["system"].split())
        prefix = COUNT_PREFIX.match(system)
        model = (system[prefix.end() :] if prefix else system).rstrip(" :")
        if not model or not value["country"]:
            dataset.rejected.append((where, "no country or no model name"))
            continue
        rows.append(
            Row(
                file=name,
                line=line,
                country=value["country"],
                origin=value["origin"],
                system=system,
                model=model,
                count_prefix=int(prefix["count"]) if prefix else None,
                fate=fate,
                url=url,
                written_url=cells[at["url"]],
                recorded=recorded,
                mat_id=value["matID"],
                image_id=value["imageID"],
            )
        )
    return rows


def _totals(data: bytes, dataset: Dataset) -> list[Total]:
    header, table = _table(TOTALS_FILE, data, TOTALS_COLUMNS)
    at = {c: header.index(c) for c in header}
    totals = []
    for line, cells in enumerate(table, start=2):
        if not any(c.strip() for c in cells):
            continue
        try:
            by_fate = {f.value: int(cells[at[f.value]]) for f in Fate}
            stated = cells[at["type_total"]] if "type_total" in at else ""
            total = int(stated) if stated.strip() else sum(by_fate.values())
        except (ValueError, IndexError):
            dataset.warnings.append(f"{TOTALS_FILE} row {line}: not numbers: {cells!r}"[:200])
            continue
        kind = " ".join(cells[at["equipment_type"]].split())
        totals.append(Total(cells[at["country"]].strip(), kind, by_fate, total))
    return totals


def _totals_date(
    daily: bytes | None, totals: list[Total], latest: dt.date | None
) -> tuple[dt.date | None, str]:
    """Return the day the totals were stated (the last day of daily_count.csv they match)."""
    wanted = {(t.country, t.total) for t in totals if t.kind == "All Types"}
    if daily is not None and wanted:
        header, table = _table(DAILY_FILE, daily, ("country", "equipment_type", "date_recorded"))
        at = {c: header.index(c) for c in header}
        days = sorted(
            {
                cells[at["date_recorded"]]
                for cells in table
                if len(cells) == len(header)
                and cells[at["equipment_type"]] == "All Types"
                and (cells[at["country"]], int(cells[at.get("type_total", 0)] or 0)) in wanted
            }
        )
        if days:
            return dt.date.fromisoformat(days[-1]), f"the last day of {DAILY_FILE} they match"
    if latest is None:
        return None, ""
    return latest, "the last date_recorded of the event files (no matching daily count)"


def dataset_read(files: dict[str, bytes], *, source_name: str) -> Dataset:
    """Return the items and stated totals of an oryx_data set, or raise ImportRefused."""
    events = {fate: files[name] for fate, name in EVENT_FILES.items() if name in files}
    if not events:
        raise ImportRefused(
            f"no event_*.csv files in {source_name} (found: {', '.join(sorted(files)) or 'none'})"
            ": oryx_csv reads the oryx_data set, event_destroyed.csv and its siblings"
        )
    dataset = Dataset(source_name=source_name, items=[], totals=[], totals_date=None)
    known = {*EVENT_FILES.values(), TOTALS_FILE, DAILY_FILE}
    ignored = sorted(n for n in files if n not in known and n.upper() != "LICENSE")
    if ignored:
        dataset.notes.append(f"file(s) ignored: {', '.join(ignored)}")
    for fate, name in EVENT_FILES.items():
        if fate not in events:
            dataset.notes.append(f"no {name}: the set has no {fate} rows")
            dataset.events_missing.append(name)
    items: dict[tuple[str, str, str], Item] = {}
    for fate, data in events.items():
        for row in _event_rows(EVENT_FILES[fate], Fate(fate), data, dataset):
            key = (row.country, row.model, row.url)
            items.setdefault(key, Item(row.country, row.model, row.url)).rows.append(row)
    dataset.items = list(items.values())
    latest = max((i.first_seen for i in dataset.items), default=None)
    if TOTALS_FILE in files:
        dataset.totals = _totals(files[TOTALS_FILE], dataset)
        dataset.totals_date, how = _totals_date(files.get(DAILY_FILE), dataset.totals, latest)
        if dataset.totals_date is not None:
            dataset.notes.append(f"the stated totals are dated {dataset.totals_date}: {how}")
    else:
        dataset.notes.append(f"no {TOTALS_FILE}: nothing to compare the items with")
    return dataset


def input_files(data: bytes) -> dict[str, bytes]:
    """Return the files of an archive (or of a directory read as one), refusing a single file."""
    from attrition.importers.common import archive_members, is_archive

    if not is_archive(data):
        raise ImportRefused(
            "oryx_csv reads several files: give the directory that holds event_*.csv and "
            "totals_by_type.csv, or a zip or tar of them"
        )
    return archive_members(data, limit=MAX_INPUT_BYTES)
