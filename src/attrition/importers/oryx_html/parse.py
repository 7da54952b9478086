"""Read an Oryx loss page into plain records: sections, category totals, model lines, links.

Pure parsing: no database. The page is Blogger HTML; what we rely on is that side sections and
categories are `<h3>` headings with their stated totals ("Russia - 10110, of which: ...",
"Tanks (1907, of which destroyed: 1161, ...)") and that each model is an `<li>` with a flag image,
"<count> <model name>:" and one link per piece of evidence, labelled "(<numbers>, <states>)".
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from urllib.parse import unquote

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
from bs4.element import NavigableString

from attrition.errors import InvalidInput
from attrition.importers.oryx_html.labels import Label, LabelError, label_parse
from attrition.losses.choices import Fate

SIDE_HEADING = re.compile(
    r"^(?P<name>[^()\d]+?)\s+-\s+(?P<total>\d+)\s*,\s*of which:?\s*(?P<rest>.*)$", re.I
)
CATEGORY_HEADING = re.compile(
    r"^(?P<name>.+?)\s*\(\s*(?P<total>\d+)\s*,\s*of which:?\s*(?P<rest>[^()]*)\)\s*$", re.I
)
HEADING_FATE = re.compile(r"([A-Za-z]+)\s*:\s*(\d+)")
MODEL_LINE = re.compile(r"^(?:(?P<count>\d+)\s+)?(?P<name>.+?)\s*:?\s*$")
FLAG_FILE = re.compile(r"^(?:\d+px-)?Flag_of_(?P<country>.+?)(?:\.svg)?\.png$", re.I)
# Heading words that are a fate under another name ("Guided Missile Cruiser (1, of which sunk: 1)").
HEADING_FATES = {f.value: f for f in Fate} | {"sunk": Fate.DESTROYED, "scuttled": Fate.DESTROYED}

# Country names as Wikimedia flag files spell them -> ISO 3166-1 alpha-2 ("SU" for the USSR).
FLAG_COUNTRIES = {
    "australia": "AU",
    "austria": "AT",
    "belarus": "BY",
    "belgium": "BE",
    "brazil": "BR",
    "bulgaria": "BG",
    "canada": "CA",
    "china": "CN",
    "the_people's_republic_of_china": "CN",
    "croatia": "HR",
    "cyprus": "CY",
    "czechoslovakia": "CS",
    "the_czech_republic": "CZ",
    "denmark": "DK",
    "east_germany": "DD",
    "estonia": "EE",
    "finland": "FI",
    "france": "FR",
    "georgia": "GE",
    "germany": "DE",
    "greece": "GR",
    "hungary": "HU",
    "india": "IN",
    "iran": "IR",
    "israel": "IL",
    "italy": "IT",
    "japan": "JP",
    "latvia": "LV",
    "lithuania": "LT",
    "the_netherlands": "NL",
    "norway": "NO",
    "poland": "PL",
    "portugal": "PT",
    "romania": "RO",
    "russia": "RU",
    "slovakia": "SK",
    "slovenia": "SI",
    "south_africa": "ZA",
    "south_korea": "KR",
    "spain": "ES",
    "sweden": "SE",
    "switzerland": "CH",
    "turkey": "TR",
    "ukraine": "UA",
    "the_soviet_union": "SU",
    "the_united_arab_emirates": "AE",
    "the_united_kingdom": "GB",
    "the_united_states": "US",
    "yugoslavia": "YU",
}


@dataclass(frozen=True)
class Totals:
    """A heading's stated figures: the total and the count per fate."""

    total: int
    by_fate: dict[str, int]
    text: str


@dataclass(frozen=True)
class Link:
    """One evidence link of a model line, with its label as written and as parsed."""

    url: str
    text: str
    label: Label | None
    error: str = ""


@dataclass(frozen=True)
class ModelLine:
    """One model of a category: "10 T-62M: (1, destroyed) (2 and 3, captured) ..."."""

    name: str
    stated_count: int | None
    flag: str
    country: str
    links: tuple[Link, ...]
    text: str


@dataclass
class CategoryBlock:
    """A category heading with its stated totals and its model lines."""

    name: str
    totals: Totals
    lines: list[ModelLine] = field(default_factory=list)


@dataclass
class Section:
    """A side's part of the page ("Russia - 475, of which: ..."); unnamed if the page has none."""

    name: str
    totals: Totals | None
    categories: list[CategoryBlock] = field(default_factory=list)


@dataclass
class Page:
    """An Oryx page as read: title, canonical URL, modification date, and its sections."""

    title: str
    url: str
    modified: dt.datetime | None
    sections: list[Section]
    skipped: list[str] = field(default_factory=list)
    source_name: str = ""

    def lines(self) -> int:
        """Return how many model lines the page has."""
        return sum(len(c.lines) for s in self.sections for c in s.categories)


class PageError(InvalidInput):
    """The input is not an Oryx loss page we can read (truncated, another layout, not HTML)."""

    code = "page_invalid"


def _text(node: Tag | NavigableString) -> str:
    return " ".join(node.get_text(" ").replace("\xa0", " ").split())


def _totals(rest: str, total: int, text: str) -> Totals:
    by_fate: dict[str, int] = {}
    for word, number in HEADING_FATE.findall(rest):
        fate = HEADING_FATES.get(word.lower())
        if fate is not None:
            by_fate[fate.value] = by_fate.get(fate.value, 0) + int(number)
    return Totals(total=total, by_fate=by_fate, text=text)


def flag_country(src: str) -> tuple[str, str]:
    """Return (flag file name, ISO 3166-1 alpha-2 code or "") for a flag image URL."""
    name = unquote(src.rsplit("/", 1)[-1])
    match = FLAG_FILE.match(name)
    if match is None:
        return name, ""
    country = re.sub(r"_\(.*\)$", "", match.group("country")).casefold()
    return name, FLAG_COUNTRIES.get(country, "")


def _model_text(li: Tag) -> str:
    """Return the text of a model line before its first link: "10 T-62M:"."""
    parts: list[str] = []
    for node in li.descendants:
        if isinstance(node, Tag) and node.name == "a":
            break
        if isinstance(node, NavigableString) and not any(p.name == "a" for p in node.parents):
            parts.append(str(node))
    return " ".join("".join(parts).replace("\xa0", " ").split())


def _links(li: Tag) -> tuple[Link, ...]:
    """Return the evidence links of a model line; a label split over links to one URL is joined."""
    merged: list[tuple[str, str]] = []
    for a in li.find_all("a"):
        href = str(a.get("href") or "").strip()
        text = _text(a)
        if merged and merged[-1][0] == href and not merged[-1][1].endswith(")"):
            merged[-1] = (href, f"{merged[-1][1]}{text}")
            continue
        merged.append((href, text))
    links = []
    for href, text in merged:
        if not text:
            continue
        try:
            links.append(Link(url=href, text=text, label=label_parse(text)))
        except LabelError as exc:
            links.append(Link(url=href, text=text, label=None, error=str(exc)))
    return tuple(links)


def _model_line(li: Tag) -> ModelLine | None:
    links = _links(li)
    head = _model_text(li)
    match = MODEL_LINE.match(head)
    if match is None or not links:
        return None
    img = li.find("img")
    flag, country = flag_country(str(img.get("src") or "")) if isinstance(img, Tag) else ("", "")
    count = match.group("count")
    return ModelLine(
        name=match.group("name").strip(),
        stated_count=int(count) if count else None,
        flag=flag,
        country=country,
        links=links,
        text=_text(li),
    )


def _modified(soup: BeautifulSoup) -> dt.datetime | None:
    meta = soup.find("meta", attrs={"itemprop": "dateModified"})
    value = str(meta.get("content") or "") if isinstance(meta, Tag) else ""
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _url(soup: BeautifulSoup) -> str:
    link = soup.find("link", attrs={"rel": "canonical"})
    return str(link.get("href") or "") if isinstance(link, Tag) else ""


def page_decode(data: bytes) -> str:
    """Return the page's text, refusing what is not UTF-8 text (a binary or mis-encoded file)."""
    if b"\x00" in data[:4096]:
        raise PageError("the file is binary, not an HTML page")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PageError(
            f"the file is not UTF-8 text (byte {exc.start} is invalid): Oryx pages are UTF-8; "
            "convert it first"
        ) from None


def page_parse(html: str) -> Page:
    """Return the sections, category totals and model lines of an Oryx page, or raise PageError."""
    if not re.search(r"</html\s*>\s*$", html[-2000:], re.I):
        raise PageError(
            "the page is truncated or not HTML (it does not end with </html>): "
            "save the whole page and import it again"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "lxml")
    body = soup.find(class_="post-body")
    if not isinstance(body, Tag):
        raise PageError("no post body (class post-body): this is not an Oryx (Blogger) page")
    title_tag = soup.find("title")
    title = _text(title_tag) if isinstance(title_tag, Tag) else ""
    sections: list[Section] = []
    skipped: list[str] = []
    category: CategoryBlock | None = None
    for node in body.find_all(["h3", "li"]):
        if node.name == "h3":
            text = _text(node)
            side = SIDE_HEADING.match(text)
            cat = CATEGORY_HEADING.match(text)
            if side is not None:
                totals = _totals(side["rest"], int(side["total"]), text)
                sections.append(Section(name=side["name"].strip(), totals=totals))
                category = None
            elif cat is not None:
                if not sections:
                    sections.append(Section(name="", totals=None))
                totals = _totals(cat["rest"], int(cat["total"]), text)
                category = CategoryBlock(name=cat["name"].strip(), totals=totals)
                sections[-1].categories.append(category)
            elif text:
                skipped.append(f"heading {text[:80]!r}")
            continue
        if category is None or node.find_parent("li") is not None:
            continue
        line = _model_line(node)
        if line is None:
            skipped.append(f"list item {_text(node)[:80]!r}")
        else:
            category.lines.append(line)
    page = Page(
        title=title, url=_url(soup), modified=_modified(soup), sections=sections, skipped=skipped
    )
    if not any(s.categories for s in sections):
        raise PageError(
            "no category headings such as 'Tanks (1907, of which destroyed: ...)': "
            "not an Oryx loss page, or a layout this importer does not know"
        )
    return page


# -- items: one per number, and the checks of the page's own figures ---------------------------


@dataclass(frozen=True)
class Item:
    """One physical item: a model line's number in the sequence of its last state."""

    section: str
    category: str
    line: ModelLine
    fate: str
    number: int
    label: Label
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Gap:
    """A number missing from a model's sequence, or repeated in it, or a line's miscount."""

    model: str
    fate: str
    number: int
    links: int = 0

    def text(self) -> str:
        """Return e.g. "T-80U destroyed #10"."""
        return f"{self.model} {self.fate} #{self.number}"


@dataclass(frozen=True)
class LineCount:
    """A model line whose stated count ("92 T-80U:") differs from the items its links number."""

    model: str
    stated: int
    parsed: int


@dataclass
class CategoryCheck:
    """A category's stated figures beside the parsed ones, and what explains any difference."""

    section: str
    category: str
    stated: int
    parsed: int
    stated_by_fate: dict[str, int]
    parsed_by_fate: dict[str, int]
    lines_stated: int
    missing: list[Gap] = field(default_factory=list)
    duplicates: list[Gap] = field(default_factory=list)
    line_counts: list[LineCount] = field(default_factory=list)

    @property
    def difference(self) -> int:
        """Return the stated total minus the parsed one."""
        return self.stated - self.parsed

    @property
    def named(self) -> int:
        """Return how many items the named anomalies can account for."""
        miscounted = sum(abs(c.stated - c.parsed) for c in self.line_counts)
        heading = abs(self.stated - self.lines_stated)
        return len(self.missing) + len(self.duplicates) + miscounted + heading

    @property
    def explained(self) -> bool:
        """Return whether the named missing, duplicate and miscounted items cover the difference."""
        return abs(self.difference) <= self.named


def _richest(links: list[Link]) -> Label:
    """Return the label with the longest history among the links of one item (the last on ties)."""
    labels = [link.label for link in links if link.label is not None]
    return max(reversed(labels), key=lambda label: len(label.states))


def page_items(page: Page) -> tuple[list[Item], list[CategoryCheck]]:
    """Return one item per number (per model and last state), and each category's check."""
    items: list[Item] = []
    checks: list[CategoryCheck] = []
    for section in page.sections:
        for block in section.categories:
            check = CategoryCheck(
                section=section.name,
                category=block.name,
                stated=block.totals.total,
                parsed=0,
                stated_by_fate=dict(block.totals.by_fate),
                parsed_by_fate={},
                lines_stated=sum(line.stated_count or 0 for line in block.lines),
            )
            for line in block.lines:
                found = _line_items(section.name, block.name, line, check)
                items.extend(found)
                if line.stated_count is not None and line.stated_count != len(found):
                    check.line_counts.append(LineCount(line.name, line.stated_count, len(found)))
                for item in found:
                    check.parsed_by_fate[item.fate] = check.parsed_by_fate.get(item.fate, 0) + 1
                check.parsed += len(found)
            checks.append(check)
    return items, checks


def _line_items(section: str, category: str, line: ModelLine, check: CategoryCheck) -> list[Item]:
    by_key: dict[tuple[str, int], list[Link]] = {}
    for link in line.links:
        if link.label is None:
            continue
        for number in link.label.numbers:
            by_key.setdefault((link.label.fate.value, number), []).append(link)
    numbers: dict[str, set[int]] = {}
    for (fate, number), links in by_key.items():
        numbers.setdefault(fate, set()).add(number)
        if len(links) > 1:
            check.duplicates.append(Gap(line.name, fate, number, links=len(links)))
    for fate, present in numbers.items():
        for number in sorted(set(range(1, max(present) + 1)) - present):
            check.missing.append(Gap(line.name, fate, number))
    return [
        Item(
            section=section,
            category=category,
            line=line,
            fate=fate,
            number=number,
            label=_richest(links),
            links=tuple(links),
        )
        for (fate, number), links in by_key.items()
    ]
