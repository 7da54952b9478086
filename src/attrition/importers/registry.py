"""The importers, declared in one place, and the one way every import runs.

An importer is a folder under `attrition.importers` whose package exposes `importer`, an object
with a `name`, a one-line `summary`, and three steps:

1. `read(data, source_name=...)`: parse the raw bytes into the source's records (no database);
2. `plan(parsed, options=...)`: compare them with the ledger and return a plan with its report
   (reads only);
3. `apply(plan, options=..., progress=...)`: write the plan: source records, losses, evidence,
   claims.

`import_run()` computes the plan; a dry run stops there. Otherwise the plan is computed inside the
transaction that applies it (once), so that what is written matches what was read and an import
is written whole or not at all.
"""

from __future__ import annotations

import gzip
import importlib
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import transaction

from attrition.errors import InvalidInput
from attrition.importers.report import ImportReport
from attrition.losses.choices import ReviewStatus

# name -> module whose `importer` attribute implements it. Adding one is copying a sibling folder.
IMPORTERS: dict[str, str] = {
    "oryx_html": "attrition.importers.oryx_html",
    "oryx_csv": "attrition.importers.oryx_csv",
    "warspotting": "attrition.importers.warspotting",
    "csv": "attrition.importers.csv_generic",
}
# Larger inputs are refused before they are read into memory.
MAX_INPUT_BYTES = 200 * 1024 * 1024
IMPORT_STATUSES = (ReviewStatus.SUBMITTED, ReviewStatus.VERIFIED)


class ImportRefused(InvalidInput):
    """The input cannot be imported; nothing was written."""

    code = "import_invalid"


@dataclass(frozen=True)
class ImportOptions:
    """What the person running an import chose."""

    conflict: str | None = None
    side: str | None = None
    status: str = ReviewStatus.SUBMITTED
    dry_run: bool = False
    by: Any = None
    # Options of one importer, e.g. the column mapping of `csv`; plain JSON, kept on ImportRun.
    params: dict[str, Any] = field(default_factory=dict)


class Progress(Protocol):
    """Told how many steps an import has, then each step done."""

    def start(self, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class NoProgress:
    """Progress that shows nothing."""

    def start(self, total: int) -> None:
        """Ignore the total."""

    def advance(self, steps: int = 1) -> None:
        """Ignore the step."""


class Plan(Protocol):
    """What an import would write; its report says it in words."""

    report: ImportReport


class Importer(Protocol):
    """One kind of source: how to read it, plan its import, and write the plan."""

    name: str
    summary: str

    def read(self, data: bytes, *, source_name: str) -> Any: ...

    def plan(self, parsed: Any, *, options: ImportOptions) -> Plan: ...

    def apply(self, plan: Any, *, options: ImportOptions, progress: Progress) -> None: ...


def importer_names() -> list[str]:
    """Return the names of the registered importers."""
    return sorted(IMPORTERS)


def importer_get(name: str) -> Importer:
    """Return the importer registered under `name`, or raise InvalidInput naming the known ones."""
    module = IMPORTERS.get(name)
    if module is None:
        raise ImportRefused(f"no importer {name!r} (known: {', '.join(importer_names())})")
    importer: Importer = importlib.import_module(module).importer
    return importer


def source_read(source: str | Path, *, directory: bool = False) -> bytes:
    """Return a file's bytes, un-gzipped if it is gzip, or raise ImportRefused saying why not.

    With `directory`, a directory is read too: its files come back as one uncompressed zip
    (for importers whose input is several files; they take a zip or tar of them as well).
    """
    text = str(source)
    path = Path(text)
    if re.match(r"^[a-z][a-z0-9+.-]*:/", text, re.I):
        raise ImportRefused(
            f"{text!r} is a URL: importing from URLs is not supported yet; "
            "download the page and import the file"
        )
    if directory and path.is_dir():
        from attrition.importers.common import directory_pack

        return directory_pack(path, limit=MAX_INPUT_BYTES)
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise ImportRefused(
                f"{path} is {size // (1024 * 1024)} MB: the limit is "
                f"{MAX_INPUT_BYTES // (1024 * 1024)} MB"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise ImportRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            # Read at most one byte past the limit: a gzip bomb stops there, not in memory.
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
                data = packed.read(MAX_INPUT_BYTES + 1)
        except (EOFError, OSError, zlib.error) as exc:
            raise ImportRefused(f"{path} is a damaged or truncated gzip file ({exc})") from None
        if len(data) > MAX_INPUT_BYTES:
            raise ImportRefused(
                f"{path} unpacks to more than the limit of {MAX_INPUT_BYTES // (1024 * 1024)} MB"
            )
    return data


def import_run(
    *,
    kind: str,
    data: bytes,
    source_name: str,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportReport:
    """Plan an import, apply it in one transaction unless it is a dry run; return the report."""
    if options.status not in IMPORT_STATUSES:
        raise ImportRefused(
            f"imported records can be {' or '.join(IMPORT_STATUSES)}, not {options.status!r}"
        )
    importer = importer_get(kind)
    parsed = importer.read(data, source_name=source_name)
    if options.dry_run:
        plan = importer.plan(parsed, options=options)
        plan.report.dry_run = True
        return plan.report
    from attrition.dedup.receivers import batched

    # Duplicate candidates of the imported losses are refreshed in a few jobs afterwards.
    with transaction.atomic(), batched():
        # Planned inside the transaction, so that what is written matches what was read.
        plan = importer.plan(parsed, options=options)
        importer.apply(plan, options=options, progress=progress or NoProgress())
    plan.report.dry_run = False
    plan.report.applied = True
    return plan.report
