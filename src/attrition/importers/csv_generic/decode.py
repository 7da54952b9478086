"""Turn a CSV file's bytes into a header and rows: the encoding and the delimiter are sniffed.

Encodings: UTF-8 with or without a byte-order mark, UTF-16 (with a mark, or without one when the
zero bytes give it away), and, for files that are not valid UTF-8, cp1251 (when most of the
letters it would give are Cyrillic) or latin-1; a guess is always reported. Delimiters: `,` `;`
tab or `|`, found with csv.Sniffer on the first lines and checked against the header. Quoted
fields may hold delimiters and newlines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from attrition.importers.registry import ImportRefused

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_CHARS = 64 * 1024
# A cell larger than this is refused (csv's own default limit is 128 kB).
MAX_CELL_CHARS = 1024 * 1024
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass
class Table:
    """A CSV file as read: its header, its rows (numbered as a spreadsheet shows them), notes."""

    source_name: str
    encoding: str
    delimiter: str
    header: list[str]
    # (row number, cells); the header is row 1, blank rows are skipped but keep their number.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cyrillic_share(text: str) -> float:
    """Return the share of non-ASCII letters that stand in words of Cyrillic letters only.

    Russian read as cp1251 gives whole Cyrillic words; latin-1 text read as cp1251 gives single
    Cyrillic letters inside Latin words ("Café" becomes "Cafй").
    """
    letters = sum(1 for c in text if not c.isascii() and c.isalpha())
    if not letters:
        return 0.0
    words = re.findall(r"[^\W\d_]{2,}", text)
    cyrillic = sum(len(w) for w in words if all("\u0400" <= c <= "\u04ff" for c in w))
    return cyrillic / letters


def text_decode(data: bytes, *, encoding: str | None = None) -> tuple[str, str, str]:
    """Return (text, encoding used, a note if the encoding was guessed) for a CSV file's bytes."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding, ""
        except LookupError:
            raise ImportRefused(f"the mapping names an unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                f"the file is not {encoding} (as the mapping says): byte {exc.start} cannot be read"
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[3:], "utf-8"), "utf-8 (with BOM)", ""
    if data.startswith(UTF16_BOMS):
        return _decode(data, "utf-16"), "utf-16", ""
    head = data[:4096]
    name = _utf16_unmarked(head)
    if name:
        return _decode(data, name), name, f"no byte-order mark: read as {name} (guessed)"
    if b"\x00" in head:
        raise ImportRefused("the file holds zero bytes: it is binary, not a CSV text file")
    try:
        return data.decode("utf-8"), "utf-8", ""
    except UnicodeDecodeError as exc:
        where = exc.start
    cp1251 = data.decode("cp1251", errors="replace")
    name = "cp1251" if _cyrillic_share(cp1251) >= 0.5 else "latin-1"
    text = cp1251 if name == "cp1251" else data.decode("latin-1")
    return (
        text,
        name,
        f"the file is not UTF-8 (byte {where}): read as {name} (guessed; "
        'set "encoding" in the mapping if that is wrong)',
    )


def _utf16_unmarked(head: bytes) -> str:
    """Return utf-16-le or -be if the bytes look like mostly-ASCII UTF-16 text, else ""."""
    half = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if half and odd >= 0.7 * half and even <= 0.05 * half:
        return "utf-16-le"
    if half and even >= 0.7 * half and odd <= 0.05 * half:
        return "utf-16-be"
    return ""


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"the file looks like {encoding} but byte {exc.start} cannot be read as such"
        ) from None


def delimiter_sniff(text: str) -> str:
    """Return the delimiter of CSV text: the sniffer's choice, checked against the header."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header = next(iter(text.splitlines()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    best = max(DELIMITERS, key=lambda d: counts[d])
    if sniffed and counts.get(sniffed, 0) > 0:
        return sniffed
    return best if counts[best] else ","


def table_read(
    data: bytes,
    *,
    source_name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Return the file's header and rows, or raise ImportRefused saying why it cannot be read."""
    text, used, note = text_decode(data, encoding=encoding)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ImportRefused(f"the mapping's delimiter {delimiter!r} is not one character")
    chosen = delimiter or delimiter_sniff(text)
    table = Table(source_name=source_name, encoding=used, delimiter=chosen, header=[])
    if note:
        table.notes.append(note)
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=chosen, quotechar='"')
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if not table.header:
                table.header = [_header_cell(c) for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            table.rows.append((number, cells))
    except csv.Error as exc:
        raise ImportRefused(
            f"row {number + 1} cannot be read as CSV ({exc}): nothing was imported"
        ) from None
    if not any(table.header):
        raise ImportRefused("the file is empty: it has no header row")
    how = "given by the mapping" if delimiter else "sniffed"
    table.notes.append(
        f"read as {used}, {DELIMITER_NAMES.get(chosen, repr(chosen))}-separated ({how}): "
        f"{len(table.header)} columns, {len(table.rows)} rows"
    )
    return table


def _header_cell(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.replace("\ufeff", "")).strip()
