"""The CSV importer: any CSV file, read through a saved or given column mapping -> the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attrition.importers import registry
from attrition.importers.csv_generic.decode import Table, table_read
from attrition.importers.csv_generic.load import SOURCE, CsvPlan, plan_apply, plan_make
from attrition.importers.csv_generic.mapping import MappingSpec, mapping_parse
from attrition.importers.registry import ImportOptions, ImportRefused, Progress


@dataclass
class CsvFile:
    """A CSV file as read without a mapping (sniffed), and its re-readings as mappings ask."""

    data: bytes
    source_name: str
    table: Table
    forced: dict[tuple[str | None, str | None], Table] = field(default_factory=dict)

    def table_for(self, spec: MappingSpec) -> Table:
        """Return the table read as `spec` says (its encoding and delimiter), or as sniffed."""
        if spec.encoding is None and spec.delimiter is None:
            return self.table
        key = (spec.encoding, spec.delimiter)
        if key not in self.forced:
            self.forced[key] = table_read(
                self.data,
                source_name=self.source_name,
                encoding=spec.encoding,
                delimiter=spec.delimiter,
            )
        return self.forced[key]


def options_mapping(options: ImportOptions) -> MappingSpec:
    """Return the column mapping an import was given, or refuse the import without one."""
    raw = options.params.get("mapping")
    if raw is None:
        raise ImportRefused(
            "the csv importer needs a column mapping: --mapping NAME (a saved one, or "
            "`attrition` for our own export) or --mapping-file FILE"
        )
    return mapping_parse(raw, name=str(options.params.get("mapping_name") or ""))


class CsvImporter:
    """Reads any CSV through a column mapping: each row one loss, each bad row named."""

    name = SOURCE
    summary = "Any CSV file, through a column mapping (saved by name, or `attrition`)."

    def read(self, data: bytes, *, source_name: str) -> CsvFile:
        """Return the file's rows, its encoding and delimiter sniffed."""
        if len(data) > registry.MAX_INPUT_BYTES:
            limit = registry.MAX_INPUT_BYTES // (1024 * 1024)
            raise ImportRefused(f"{source_name} is larger than the limit of {limit} MB")
        return CsvFile(
            data=data, source_name=source_name, table=table_read(data, source_name=source_name)
        )

    def plan(self, parsed: Any, *, options: ImportOptions) -> CsvPlan:
        """Return what importing the rows would write."""
        spec = options_mapping(options)
        return plan_make(table=parsed.table_for(spec), spec=spec, options=options)

    def apply(self, plan: Any, *, options: ImportOptions, progress: Progress) -> None:
        """Write the plan."""
        plan_apply(plan=plan, options=options, progress=progress)


importer = CsvImporter()
