"""Shared data and setup for the importer tests: the real Oryx pages in ../shared/data."""

from __future__ import annotations

import gzip
import zlib
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


ORYX_DATA_HEADER = "country,origin,system,status,url,date_recorded,sysID,imageID,statusID,matID\n"


@pytest.fixture
def tanks_and_bmps(reference: None) -> None:
    """Add the models T-72B3 (Tanks) and BMP-2 (IFVs) with their aliases, as a page import would."""
    from attrition.catalog.models import Category, EquipmentModel
    from attrition.catalog.services import model_add_alias

    for name, category in (("T-72B3", "tanks"), ("BMP-2", "infantry-fighting-vehicles")):
        model = EquipmentModel.objects.create(
            slug=name.lower(), name=name, category=Category.objects.get(slug=category)
        )
        model_add_alias(model=model, alias=name)


def oryx_set(
    directory: Path, rows: list[tuple[str, str, str]], *, fates: tuple[str, ...] = ()
) -> Path:
    """Write a tiny oryx_data set of (country, system, url) rows, all destroyed.

    The other event files are written empty, unless `fates` names the only ones to write.
    """
    directory.mkdir(exist_ok=True)
    # The ids follow the URL, so that a row reads the same in every version of the set.
    lines = [
        f"{country},Russia,{system},destroyed,{url},2024-03-02,1,{n},1,7-1{n}1\n"
        for country, system, url in rows
        for n in [zlib.crc32(url.encode()) % 10000]
    ]
    (directory / "event_destroyed.csv").write_text(ORYX_DATA_HEADER + "".join(lines))
    for fate in ("damaged", "abandoned", "captured"):
        path = directory / f"event_{fate}.csv"
        if fates and fate not in fates:
            path.unlink(missing_ok=True)
        else:
            path.write_text(ORYX_DATA_HEADER)
    return directory
