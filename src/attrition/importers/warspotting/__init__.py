"""The WarSpotting importer: its public API's JSON (a saved page or sync dump) -> the ledger."""

from __future__ import annotations

from typing import Any

from attrition.importers.registry import ImportOptions, Progress
from attrition.importers.report import ImportReport
from attrition.importers.warspotting.load import SOURCE, WarSpottingPlan, plan_apply, plan_make
from attrition.importers.warspotting.parse import Feed, feed_decode


class WarSpottingImporter:
    """Reads WarSpotting loss records: one loss per record id, its links as evidence."""

    name = SOURCE
    summary = "WarSpotting's JSON API: a saved page or sync dump (.json), or the API's base URL."

    def read(self, data: bytes, *, source_name: str) -> Feed:
        """Return the checked records of the input."""
        return feed_decode(data, source_name=source_name)

    def plan(self, parsed: Any, *, options: ImportOptions) -> WarSpottingPlan:
        """Return what importing the records would write."""
        return plan_make(feed=parsed, options=options)

    def apply(self, plan: Any, *, options: ImportOptions, progress: Progress) -> None:
        """Write the plan."""
        plan_apply(plan=plan, options=options, progress=progress)

    def import_url(self, url: str, *, options: ImportOptions, progress: Progress) -> ImportReport:
        """Sync from the API at `url` (its base URL): the days since the last sync."""
        from attrition.importers.warspotting.sync import warspotting_sync

        return warspotting_sync(base_url=url, options=options, progress=progress).report


importer = WarSpottingImporter()
