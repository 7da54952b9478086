"""Slices of the real oryx_data set (../shared/data/oryx_data), written to a directory per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from attrition.catalog.models import Category, EquipmentModel
from attrition.catalog.services import model_add_alias
from tests.importers.conftest import SHARED_DATA

ORYX_DATA = SHARED_DATA / "oryx_data"
EVENTS = ["destroyed", "damaged", "abandoned", "captured"]

needs_data = pytest.mark.skipif(
    not ORYX_DATA.is_dir(), reason=f"the shared oryx_data set is not at {ORYX_DATA}"
)


def lines(name: str) -> list[str]:
    """Return the lines of one file of the set, header first."""
    return (ORYX_DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)


def write_slice(directory: Path, wanted: Callable[[str], bool], *, totals: bool = True) -> Path:
    """Write the rows of the event files that `wanted` keeps (and the totals files) to a dir."""
    directory.mkdir(parents=True, exist_ok=True)
    for fate in EVENTS:
        name = f"event_{fate}.csv"
        rows = lines(name)
        (directory / name).write_text(
            "".join([rows[0], *(r for r in rows[1:] if wanted(r))]), encoding="utf-8"
        )
    if totals:
        for name in ("totals_by_type.csv", "daily_count.csv"):
            (directory / name).write_bytes((ORYX_DATA / name).read_bytes())
    return directory


def model_add(name: str, category: str) -> EquipmentModel:
    """Add a model the way an Oryx page import would have left it: named, with its alias."""
    model = EquipmentModel.objects.create(
        slug=name.lower().replace(" ", "-"), name=name, category=Category.objects.get(slug=category)
    )
    model_add_alias(model=model, alias=name)
    return model
