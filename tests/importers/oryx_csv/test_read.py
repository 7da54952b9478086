"""Reading the oryx_data set: items, count prefixes, URLs, file-name dates, refusals."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from attrition.importers.common import archive_members
from attrition.importers.oryx_csv.read import (
    dataset_read,
    file_name_date,
    input_files,
    url_checked,
)
from attrition.importers.registry import ImportRefused, source_read
from attrition.losses.choices import Fate
from tests.importers.oryx_csv.conftest import needs_data, write_slice

pytestmark = needs_data


def read_dir(path: Path):  # type: ignore[no-untyped-def]
    return dataset_read(input_files(source_read(path, directory=True)), source_name=path.name)


def test_it_merges_the_rows_of_one_link_into_one_item_in_oryx_order(tmp_path: Path) -> None:
    dataset = read_dir(write_slice(tmp_path / "set", lambda r: "1450-T-90-AK-capt-destr" in r))
    assert len(dataset.items) == 1
    item = dataset.items[0]
    assert item.model == "T-90AK"
    assert item.states == [Fate.CAPTURED, Fate.DESTROYED]
    assert item.first_seen == dt.date(2025, 3, 20)
    assert item.file_date == dt.date(2025, 3, 11)


def test_it_strips_count_prefixes_so_one_model_stays_one(tmp_path: Path) -> None:
    def wanted(row: str) -> bool:
        return row.startswith("Russia,") and bool(
            re.search(r",(\d+ )?T-80U,|,\(Unknown\) truck,|,122mm BM-21 Grad,", row)
        )

    dataset = read_dir(write_slice(tmp_path / "set", wanted))
    assert {i.model for i in dataset.items} == {"T-80U", "(Unknown) truck", "122mm BM-21 Grad"}
    t80u = [i for i in dataset.items if i.model == "T-80U"]
    assert {r.system for i in t80u for r in i.rows} >= {"100 T-80U", "T-80U"}
    assert {r.count_prefix for i in t80u for r in i.rows} >= {None, 100}


def test_it_flags_typo_and_malformed_urls_with_their_rows(tmp_path: Path) -> None:
    def wanted(row: str) -> bool:
        return "postlmg.cc/dhTQRzCD" in row or "Ural tanker https://" in row or ",ttps://" in row

    dataset = read_dir(write_slice(tmp_path / "set", wanted))
    repaired = [w for w in dataset.warnings if "misspelt host 'postlmg.cc' repaired" in w]
    assert repaired
    assert all(re.match(r"event_\w+\.csv row \d+: ", w) for w in repaired)
    assert any("postlmg" not in i.url and "dhTQRzCD" in i.url for i in dataset.items)
    assert any("free text around the URL" in w and " row " in w for w in dataset.warnings)
    assert any("scheme 'ttps' read as https" in w for w in dataset.warnings)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://i.postimg.cc/x/1017-Unknown-truck-dam-04-04-24.jpg", dt.date(2024, 4, 4)),
        ("https://i.postimg.cc/x/2022-11-12-Kam-AZ-x2.jpg", dt.date(2022, 11, 12)),
        (
            "https://i.postimg.cc/x/08-14-2022-Soledar-BMD-1-Ksh-A-destroyed.png",
            dt.date(2022, 8, 14),
        ),
        ("https://i.postimg.cc/x/1029-2-65-Msta-B-destr-24-07-23.jpg", dt.date(2023, 7, 24)),
        ("https://i.postimg.cc/x/1050-msta-s-destr-26-12-233.jpg", None),
        ("https://twitter.com/UAWeapons/status/1524489058235387912", None),
    ],
)
def test_it_reads_the_date_in_an_evidence_file_name(url: str, expected: dt.date | None) -> None:
    assert file_name_date(url, latest=dt.date(2025, 1, 1)) == expected


def test_it_keeps_good_urls_and_refuses_run_together_ones() -> None:
    assert url_checked("https://postimg.cc/abc") == ("https://postimg.cc/abc", "")
    assert url_checked("https://twitterr.com/a/status/1")[0] is None
    assert url_checked("https://ihttps://i.postimg.cc/a.jpg")[0] is None
    assert url_checked("i.postimg.cc/a.jpg")[0] is None


def test_it_refuses_missing_columns_a_binary_file_an_empty_dir_and_a_single_file(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "event_destroyed.csv").write_text("country,system,url\nRussia,T-72B,https://x.com/a\n")
    with pytest.raises(ImportRefused, match="lacks the column"):
        read_dir(bad)
    (bad / "event_destroyed.csv").write_bytes(b"\x00\x01PK" * 100)
    with pytest.raises(ImportRefused, match="binary"):
        read_dir(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportRefused, match="empty directory"):
        source_read(empty, directory=True)
    with pytest.raises(ImportRefused, match="reads several files"):
        input_files(b"country,origin\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("hello")
    with pytest.raises(ImportRefused, match="no event_"):
        read_dir(other)


def test_it_refuses_an_archive_that_unpacks_beyond_the_limit() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("event_destroyed.csv", b"0" * 2_000_000)
    data = buffer.getvalue()
    assert len(data) < 10_000
    with pytest.raises(ImportRefused, match="unpacks to 1 MB: the limit is 0 MB"):
        archive_members(data, limit=1_000_000)
    with pytest.raises(ImportRefused, match="damaged or truncated"):
        archive_members(data[: len(data) // 2], limit=10_000_000)


@pytest.mark.parametrize(
    ("written", "url"),
    [
        ("https://i.postlmg.cc/dhTQRzCD/a.jpg", "https://i.postimg.cc/dhTQRzCD/a.jpg"),
        ("https://twiter.com/a/status/1", "https://twitter.com/a/status/1"),
        ("https://I.POSTLMG.CC/x.jpg", "https://i.postimg.cc/x.jpg"),
    ],
)
def test_it_repairs_the_known_typo_hosts_with_a_warning(written: str, url: str) -> None:
    repaired, warning = url_checked(written)
    assert repaired == url
    assert "repaired to" in warning


def test_it_still_rejects_a_misspelt_host_not_in_the_table() -> None:
    url, why = url_checked("https://i.postimgg.cc/x.jpg")
    assert url is None
    assert "misspelling of 'i.postimg.cc'" in why
