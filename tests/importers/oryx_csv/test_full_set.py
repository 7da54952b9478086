"""The acceptance of the Oryx-derived CSV importer: the whole oryx_data set imports, and again
changes nothing."""

from __future__ import annotations

import pytest

from attrition.importers.registry import ImportOptions, import_run, source_read
from attrition.losses.models import Loss
from tests.importers.oryx_csv.conftest import ORYX_DATA, needs_data

pytestmark = [needs_data, pytest.mark.slow, pytest.mark.usefixtures("reference")]

# What cannot be repaired: rows whose URL column holds no single URL.
GARBAGE = ("two URLs run together", "free text, not one URL", "not a URL", "no host in")


def test_it_imports_the_whole_set_and_again_changes_nothing() -> None:
    data = source_read(ORYX_DATA, directory=True)

    first = import_run(kind="oryx_csv", data=data, source_name="oryx_data", options=ImportOptions())

    assert [r for r in first.rejected if not r.reason.startswith(GARBAGE)] == []
    assert len(first.rejected) <= 5
    assert len(first.created) > 30_000
    assert Loss.objects.count() == len(first.created)
    again = import_run(kind="oryx_csv", data=data, source_name="oryx_data", options=ImportOptions())
    assert again.changes_nothing, again.counts()
