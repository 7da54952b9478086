"""The Oryx-derived CSV importer: the oryx_data set (a directory, zip or tar) -> the ledger."""

from __future__ import annotations

from typing import Any

from attrition.importers.oryx_csv.load import SOURCE, CsvPlan, plan_apply, plan_make
from attrition.importers.oryx_csv.read import Dataset, dataset_read, input_files
from attrition.importers.registry import ImportOptions, Progress


class OryxCsvImporter:
    """Reads the oryx_data set: per-link event rows, stated totals by type, daily counts."""

    name = SOURCE
    summary = "The Oryx-derived oryx_data CSV set: a directory, or a zip or tar of its files."
    # Its input is several files: `attrition import` reads a directory given to it as one zip.
    reads_directories = True

    def read(self, data: bytes, *, source_name: str) -> Dataset:
        """Return the items and stated totals of the set."""
        return dataset_read(input_files(data), source_name=source_name)

    def plan(self, parsed: Any, *, options: ImportOptions) -> CsvPlan:
        """Return what importing the set would write."""
        return plan_make(dataset=parsed, options=options)

    def apply(self, plan: Any, *, options: ImportOptions, progress: Progress) -> None:
        """Write the plan."""
        plan_apply(plan=plan, options=options, progress=progress)


importer = OryxCsvImporter()
