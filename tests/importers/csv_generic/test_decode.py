"""Reading any CSV: encodings and delimiters sniffed, quoted newlines, guesses reported."""

from __future__ import annotations

import codecs

import pytest

from attrition.importers.csv_generic.decode import table_read
from attrition.importers.registry import ImportRefused

TEXT = 'id,model,fate\n1,"T-62, early",уничтожен\n2,"BMP-2\nwith a ZU-23",captured\n'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode(), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8 (with BOM)"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1251"), "cp1251"),
    ],
)
def test_it_sniffs_the_encoding(data: bytes, encoding: str) -> None:
    table = table_read(data, source_name="x.csv")
    assert table.encoding == encoding
    assert table.header == ["id", "model", "fate"]
    assert [cells for _, cells in table.rows] == [
        ["1", "T-62, early", "уничтожен"],
        ["2", "BMP-2\nwith a ZU-23", "captured"],
    ]


def test_it_reports_a_guessed_encoding() -> None:
    table = table_read(TEXT.encode("cp1251"), source_name="x.csv")
    assert any("not UTF-8" in note and "cp1251 (guessed" in note for note in table.notes)
    latin = table_read("id,place\n1,Kunduz Café\n".encode("latin-1"), source_name="x.csv")
    assert latin.encoding == "latin-1"
    assert latin.rows[0][1] == ["1", "Kunduz Café"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_sniffs_the_delimiter(delimiter: str) -> None:
    text = TEXT.replace(",", delimiter).replace(f'"T-62{delimiter} early"', f'"T-62{delimiter} x"')
    table = table_read(text.encode(), source_name="x.csv")
    assert table.delimiter == delimiter
    assert table.rows[0][1] == ["1", f"T-62{delimiter} x", "уничтожен"]
    assert table.rows[1][1][1] == "BMP-2\nwith a ZU-23"


def test_it_numbers_rows_as_a_spreadsheet_shows_them() -> None:
    table = table_read(b"id,fate\n\n1,destroyed\n2,damaged\n", source_name="x.csv")
    assert [number for number, _ in table.rows] == [3, 4]


def test_it_takes_the_encoding_and_delimiter_a_mapping_gives() -> None:
    data = "id;fate\n1;destroyed\n".encode("cp1252")
    table = table_read(data, source_name="x.csv", encoding="cp1252", delimiter=";")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    with pytest.raises(ImportRefused, match="not utf-8"):
        table_read("é".encode("latin-1"), source_name="x.csv", encoding="utf-8")


def test_it_refuses_binary_and_empty_files_and_huge_cells() -> None:
    with pytest.raises(ImportRefused, match="binary"):
        table_read(b"PK\x03\x04\x00\x00\x08\x00abc", source_name="x.zip")
    with pytest.raises(ImportRefused, match="empty"):
        table_read(b"", source_name="x.csv")
    with pytest.raises(ImportRefused, match="row 2 cannot be read as CSV"):
        table_read(b'id,notes\n1,"' + b"x" * (1024 * 1024 + 10) + b'"\n', source_name="x.csv")
