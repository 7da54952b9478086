"""What a backup says it holds: its manifest, checked strictly before anything is believed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.backup.archive import BackupInvalid, Source, name_check

FORMAT: Final = "attrition-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_INDEX: Final = "media.jsonl"
MEDIA_PREFIX = "media/"
DATABASE_PREFIX = "database/"
# Originals are stored under their own SHA-256 (capture/steps/store.py), so their names are a
# second, independent check of their content.
CONTENT_ADDRESSED = re.compile(r"^captures/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
MANIFEST_MAX_BYTES = 64 * 1024 * 1024

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Count = Annotated[int, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TableEntry(Strict):
    """One table's rows: a JSON-lines file, one row per line, values in `columns` order."""

    model: str
    table: str
    file: str
    columns: list[str]
    rows: Count
    bytes: Count
    sha256: Sha256


class DatabaseEntry(Strict):
    vendor: str
    rows: Count
    sha256: Sha256
    tables: list[TableEntry]


class MediaEntry(Strict):
    """One media file (a line of media.jsonl): its storage name, size and SHA-256."""

    name: str
    bytes: Count
    sha256: Sha256


class MediaSummary(Strict):
    index: Literal["media.jsonl"]
    index_bytes: Count
    index_sha256: Sha256
    files: Count
    bytes: Count


class Manifest(Strict):
    format: Literal["attrition-backup"]
    format_version: int
    created_at: str
    attrition_version: str
    data_version: str | None
    migrations: list[tuple[str, str]]
    database: DatabaseEntry
    media: MediaSummary


def database_digest(tables: list[TableEntry]) -> str:
    """Return the SHA-256 of the database dump as a whole: of each table's name and SHA-256."""
    digest = hashlib.sha256()
    for table in tables:
        digest.update(f"{table.table} {table.sha256}\n".encode())
    return digest.hexdigest()


def manifest_read(source: Source) -> Manifest:
    """Return the backup's manifest, or raise BackupInvalid if it is missing or malformed."""
    with source.open(MANIFEST) as fh:
        raw = fh.read(MANIFEST_MAX_BYTES + 1)
    if len(raw) > MANIFEST_MAX_BYTES:
        raise BackupInvalid("the backup's manifest is larger than any attrition writes")
    try:
        head = Manifest.model_validate_json(raw, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BackupInvalid(
            f"the backup's manifest is not one attrition wrote ({where}: {first['msg']})"
        ) from None
    if head.format_version != FORMAT_VERSION:
        raise BackupInvalid(
            f"the backup is in format version {head.format_version}; this attrition reads "
            f"version {FORMAT_VERSION}"
        )
    for table in head.database.tables:
        if table.file != f"{DATABASE_PREFIX}{table.table}.jsonl":
            raise BackupInvalid(f"the manifest names {table.file!r} for table {table.table!r}")
        name_check(table.file)
    if database_digest(head.database.tables) != head.database.sha256:
        raise BackupInvalid("the manifest's database SHA-256 does not match its tables")
    return head


def media_entries(source: Source) -> Iterator[MediaEntry]:
    """Yield each media file listed in media.jsonl, checked; raise BackupInvalid on a bad line."""
    with source.open(MEDIA_INDEX) as fh:
        for number, line in enumerate(fh, start=1):
            try:
                entry = MediaEntry.model_validate_json(line, strict=False)
            except ValidationError:
                raise BackupInvalid(f"line {number} of {MEDIA_INDEX} is malformed") from None
            name_check(entry.name)
            match = CONTENT_ADDRESSED.match(entry.name)
            if match and (match[3] != entry.sha256 or match[1] + match[2] != match[3][:4]):
                raise BackupInvalid(
                    f"{entry.name} is listed with SHA-256 {entry.sha256}, not the one it is "
                    "stored under"
                )
            yield entry
