"""Reading the real Oryx pages: headings, totals, model lines, items, and refusing bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.importers.oryx_html.parse import (
    PageError,
    flag_country,
    page_decode,
    page_items,
    page_parse,
)
from tests.importers.conftest import PAGES, needs_pages, page_bytes

pytestmark = needs_pages

# Per page: side sections with their stated totals, and the items parsed (one per number).
EXPECTED = {
    "russia": ({"Russia": 10110}, 10107),
    "ukraine": ({"Ukraine": 3204}, 3200),
    "aircraft": ({"Russia": 475, "Ukraine": 272, "Unknown": 3}, 749),
    "naval": ({"Russia": 12, "Ukraine": 27}, 39),
}


@pytest.mark.parametrize("name", PAGES)
def test_it_reads_the_sections_and_items_of_the_page(name: str) -> None:
    page = page_parse(page_decode(page_bytes(name)))
    sections, n_items = EXPECTED[name]
    assert {s.name: s.totals.total for s in page.sections if s.totals} == sections
    items, _ = page_items(page)
    assert len(items) == n_items
    assert page.url.startswith("https://www.oryxspioenkop.com/2022/")
    assert page.modified is not None
    assert page.modified.year == 2023
    assert page.skipped == []
    errors = [k.text for s in page.sections for c in s.categories for m in c.lines for k in m.links]
    assert all(errors)


@pytest.mark.parametrize("name", PAGES)
def test_it_explains_every_difference_from_the_stated_totals(name: str) -> None:
    _, checks = page_items(page_parse(page_decode(page_bytes(name))))
    assert checks
    for check in checks:
        if check.difference:
            assert (
                check.missing
                or check.duplicates
                or check.line_counts
                or (check.lines_stated != check.stated)
            ), check.category
        assert check.explained, (check.section, check.category, check.difference)


def test_it_names_the_missing_and_repeated_numbers() -> None:
    _, checks = page_items(page_parse(page_decode(page_bytes("ukraine"))))
    helicopters = next(c for c in checks if c.category == "Helicopters")
    assert (helicopters.stated, helicopters.parsed) == (29, 28)
    assert [g.text() for g in helicopters.missing] == ["Mi-8 transport helicopter destroyed #17"]
    assert [g.text() for g in helicopters.duplicates] == ["Mi-8 transport helicopter destroyed #7"]


def test_it_reads_the_category_totals_and_the_modification_date() -> None:
    page = page_parse(page_decode(page_bytes("russia")))
    tanks = page.sections[0].categories[0]
    assert tanks.name == "Tanks"
    assert tanks.totals.total == 1907
    assert tanks.totals.by_fate == {
        "destroyed": 1161,
        "damaged": 101,
        "abandoned": 101,
        "captured": 544,
    }
    names = [c.name for c in page.sections[0].categories]
    assert "Mine-Resistant Ambush Protected (MRAP) Vehicles" in names
    assert page.modified == dt.datetime(2023, 4, 23, 14, 45, 57, tzinfo=dt.UTC)


def test_it_counts_sunk_as_destroyed_in_headings() -> None:
    page = page_parse(page_decode(page_bytes("naval")))
    cruiser = page.sections[0].categories[0]
    assert cruiser.name == "Guided Missile Cruiser"
    assert cruiser.totals.by_fate == {"destroyed": 1}


def test_it_reads_model_lines_with_count_name_and_flag() -> None:
    page = page_parse(page_decode(page_bytes("russia")))
    first = page.sections[0].categories[0].lines[0]
    assert (first.stated_count, first.name, first.country) == (1, "T-62 Obr. 1967", "SU")
    assert first.links[0].url.startswith("https://i.postimg.cc/")


def test_it_joins_a_label_split_over_links_to_one_url() -> None:
    page = page_parse(page_decode(page_bytes("ukraine")))
    texts = [k.text for s in page.sections for c in s.categories for m in c.lines for k in m.links]
    assert ")" not in texts
    assert "(13, destroyed)" in texts


@pytest.mark.parametrize(
    ("src", "code"),
    [
        ("https://upload.wikimedia.org/x/23px-Flag_of_the_Soviet_Union.svg.png", "SU"),
        ("https://upload.wikimedia.org/x/21px-Flag_of_Israel.svg.png", "IL"),
        ("https://upload.wikimedia.org/x/23px-Flag_of_Australia_%28converted%29.svg.png", "AU"),
        ("https://upload.wikimedia.org/x/23px-Flag_of_Canada_%28Pantone%29.svg.png", "CA"),
        ("https://upload.wikimedia.org/x/23px-Missing_flag.png", ""),
    ],
)
def test_it_maps_flag_files_to_country_codes(src: str, code: str) -> None:
    assert flag_country(src)[1] == code


def test_it_refuses_a_truncated_page() -> None:
    html = page_bytes("naval")
    with pytest.raises(PageError, match="truncated"):
        page_parse(page_decode(html[: len(html) // 2]))


def test_it_refuses_a_page_without_oryx_structure() -> None:
    with pytest.raises(PageError, match="not an Oryx"):
        page_parse("<html><body><h3>Hello</h3><ul><li>1 T-62: (1, x)</li></ul></body></html>")
    body = '<html><body><div class="post-body"><h3>News</h3></div></body></html>'
    with pytest.raises(PageError, match="no category headings"):
        page_parse(body)


def test_it_refuses_binary_and_wrongly_encoded_files() -> None:
    with pytest.raises(PageError, match="binary"):
        page_decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    latin1 = page_bytes("naval").decode("utf-8").encode("utf-16")
    with pytest.raises(PageError):
        page_decode(latin1)
