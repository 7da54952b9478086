"""CSV cells that a spreadsheet shows as text and never runs as a formula, and back.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
("CSV injection"): every CSV the product writes puts an apostrophe before such a text, as
spreadsheets themselves do; the CSV importer takes that apostrophe off again, so an export
imports unchanged. Numbers (a negative longitude) are written as they are.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def cell_text(text: str) -> str:
    """Return a CSV cell's text without the apostrophe `cell_safe` (or a spreadsheet) put on."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
