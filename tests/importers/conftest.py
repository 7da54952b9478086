"""Shared data and setup for the importer tests: the real Oryx pages in ../shared/data."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from attrition.reference.load import reference_load

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ORYX_PAGES = SHARED_DATA / "borderlands_oryx_pages"
PAGES = ["russia", "ukraine", "aircraft", "naval"]

needs_pages = pytest.mark.skipif(
    not ORYX_PAGES.is_dir(), reason=f"the shared Oryx pages are not at {ORYX_PAGES}"
)


def page_path(name: str) -> Path:
    """Return the path of one stored Oryx page (gzip)."""
    return ORYX_PAGES / f"{name}.html.gz"


def page_bytes(name: str) -> bytes:
    """Return the HTML of one stored Oryx page, unpacked."""
    return gzip.decompress(page_path(name).read_bytes())


@pytest.fixture
def reference(db: None) -> None:
    """Load the shipped reference data: categories, Oryx mappings, the Russia-Ukraine conflict."""
    reference_load()
