"""The Oryx page importer: an Oryx loss list saved as HTML (or .html.gz) -> the ledger."""

from __future__ import annotations

from typing import Any

from attrition.importers.oryx_html.load import SOURCE, OryxPlan, plan_apply, plan_make
from attrition.importers.oryx_html.parse import Page, page_decode, page_parse
from attrition.importers.registry import ImportOptions, Progress


class OryxHtmlImporter:
    """Reads an Oryx loss page: its stated totals, model lines and labelled evidence links."""

    name = SOURCE
    summary = "An Oryx equipment-loss page, saved as .html or .html.gz."

    def read(self, data: bytes, *, source_name: str) -> Page:
        """Return the parsed page."""
        page = page_parse(page_decode(data))
        page.source_name = source_name
        return page

    def plan(self, parsed: Any, *, options: ImportOptions) -> OryxPlan:
        """Return what importing the page would write."""
        return plan_make(page=parsed, options=options)

    def apply(self, plan: Any, *, options: ImportOptions, progress: Progress) -> None:
        """Write the plan."""
        plan_apply(plan=plan, options=options, progress=progress)


importer = OryxHtmlImporter()
