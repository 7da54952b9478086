"""Back an instance up (database and media, with a manifest of hashes) and restore it.

A backup is made from one consistent state of the database and never changes the instance. A
restore goes only into an empty instance, checks every hash before it writes anything, writes
the rows and files in one transaction, checks every hash again from what it wrote, and leaves
nothing behind when any of that fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.management import call_command
from django.db import (
    DEFAULT_DB_ALIAS,
    DataError,
    IntegrityError,
    connections,
    models,
    transaction,
)

from attrition.backup import tables
from attrition.backup.archive import (
    BackupInvalid,
    Sink,
    Source,
    copy_hashed,
    sink_open,
    source_open,
)
from attrition.backup.databases import snapshot
from attrition.backup.manifest import (
    DATABASE_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEDIA_INDEX,
    MEDIA_PREFIX,
    DatabaseEntry,
    Manifest,
    MediaEntry,
    MediaSummary,
    TableEntry,
    database_digest,
    manifest_read,
    media_entries,
)
from attrition.backup.media import storage_first, storage_names
from attrition.errors import AttritionError


class TargetNotEmpty(AttritionError):
    """A restore or move was refused because its target already holds data."""

    code = "target_not_empty"


@dataclass
class BackupReport:
    """What a backup holds."""

    path: Path
    tables: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    sha256: str = ""


@dataclass
class RestoreReport:
    """What a restore put back."""

    rows: int = 0
    tables: int = 0
    files: int = 0
    bytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def backup_name(now: dt.datetime | None = None) -> str:
    """Return the default file name of a backup made now."""
    now = now or dt.datetime.now(dt.UTC)
    return f"attrition-backup-{now:%Y%m%dT%H%M%SZ}.zip"


def data_version(schema: tables.Schema, *, using: str) -> str | None:
    """Return the moment of the latest change to any loss in the snapshot (ISO 8601)."""
    try:
        versions = schema.apps.get_model("losses", "LossVersion")
    except LookupError:
        return None
    latest = versions._base_manager.using(using).aggregate(v=models.Max("valid_from"))["v"]
    return latest.isoformat() if latest else None


def table_dump(
    model: type[models.Model], *, using: str, out: IO[bytes] | None
) -> tuple[int, int, str]:
    """Write a table's rows as JSON lines (or only hash them); return rows, bytes and SHA-256."""
    digest, rows, size = hashlib.sha256(), 0, 0
    for row in tables.rows_read(model, using=using):
        line = tables.row_line(row)
        digest.update(line)
        rows += 1
        size += len(line)
        if out is not None:
            out.write(line)
    return rows, size, digest.hexdigest()


def database_write(
    sink: Sink, *, scratch: Path
) -> tuple[DatabaseEntry, list[tuple[str, str]], str | None]:
    """Write every table of one consistent state of the database; return what was written."""
    with snapshot(scratch=scratch) as alias:
        connection = connections[alias]
        applied = tables.applied_migrations(connection)
        if not applied:
            raise AttritionError("the database has no tables: there is nothing to back up")
        schema = tables.schema_for(applied, connection=connection)
        entries = []
        for model in schema.models():
            table = model._meta.db_table
            name = f"{DATABASE_PREFIX}{table}.jsonl"
            with sink.member(name) as out:
                rows, size, sha256 = table_dump(model, using=alias, out=out)
            entries.append(
                TableEntry(
                    model=model._meta.label_lower,
                    table=table,
                    file=name,
                    columns=tables.column_names(model),
                    rows=rows,
                    bytes=size,
                    sha256=sha256,
                )
            )
        version_at = data_version(schema, using=alias)
        vendor = connection.vendor
    database = DatabaseEntry(
        vendor=vendor,
        rows=sum(t.rows for t in entries),
        sha256=database_digest(entries),
        tables=entries,
    )
    return database, applied, version_at


def media_write(sink: Sink, *, storage: Storage, scratch: Path) -> MediaSummary:
    """Copy every media file into the backup, listing each in media.jsonl; return the summary."""
    files, total = 0, 0
    with tempfile.TemporaryFile(dir=scratch) as index:
        for name in storage_names(storage):
            with (
                storage.open(name, "rb") as fh,
                sink.member(MEDIA_PREFIX + name, compress=False) as out,
            ):
                size, sha256 = copy_hashed(fh, out)
            entry = MediaEntry(name=name, bytes=size, sha256=sha256)
            index.write(entry.model_dump_json().encode() + b"\n")
            files += 1
            total += size
        index.seek(0)
        with sink.member(MEDIA_INDEX) as out:
            index_bytes, index_sha256 = copy_hashed(index, out)
    return MediaSummary(
        index=MEDIA_INDEX,
        index_bytes=index_bytes,
        index_sha256=index_sha256,
        files=files,
        bytes=total,
    )


def backup_create(*, output: Path, storage: Storage | None = None) -> BackupReport:
    """Write a backup of the database and every media file to `output` (a .zip or a directory)."""
    storage = storage or default_storage
    output = output.absolute()
    sink = sink_open(output)
    try:
        database, applied, version_at = database_write(sink, scratch=output.parent)
        media = media_write(sink, storage=storage, scratch=output.parent)
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            created_at=dt.datetime.now(dt.UTC).isoformat(),
            attrition_version=version("attrition"),
            data_version=version_at,
            migrations=applied,
            database=database,
            media=media,
        )
        with sink.member(MANIFEST) as out:
            out.write(manifest.model_dump_json(indent=1).encode() + b"\n")
        sink.finish()
    except BaseException:
        sink.drop()
        raise
    return BackupReport(
        path=output,
        tables=len(database.tables),
        rows=database.rows,
        files=media.files,
        bytes=media.bytes,
        sha256=database.sha256,
    )


# --- restore ------------------------------------------------------------------------------------


def member_check(source: Source, name: str, *, size: int, sha256: str) -> None:
    """Raise BackupInvalid unless the member has this size and SHA-256."""
    try:
        with source.open(name) as fh:
            got_size, got_sha256 = copy_hashed(fh, None)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BackupInvalid(f"{name} in the backup cannot be read ({exc})") from None
    if (got_size, got_sha256) != (size, sha256):
        raise BackupInvalid(
            f"{name} in the backup has been altered or damaged: SHA-256 {got_sha256} "
            f"({got_size} bytes), the manifest says {sha256} ({size} bytes)"
        )


def backup_verify(source: Source) -> Manifest:
    """Check every file of a backup against its manifest; return the manifest, or raise."""
    manifest = manifest_read(source)
    expected = {MANIFEST, MEDIA_INDEX}
    for table in manifest.database.tables:
        member_check(source, table.file, size=table.bytes, sha256=table.sha256)
        expected.add(table.file)
    member_check(
        source, MEDIA_INDEX, size=manifest.media.index_bytes, sha256=manifest.media.index_sha256
    )
    files, total = 0, 0
    for entry in media_entries(source):
        member_check(source, MEDIA_PREFIX + entry.name, size=entry.bytes, sha256=entry.sha256)
        expected.add(MEDIA_PREFIX + entry.name)
        files, total = files + 1, total + entry.bytes
    if (files, total) != (manifest.media.files, manifest.media.bytes):
        raise BackupInvalid(
            f"{MEDIA_INDEX} lists {files} files ({total} bytes), the manifest "
            f"{manifest.media.files} ({manifest.media.bytes} bytes)"
        )
    extra = sorted(source.names() - expected)
    if extra:
        raise BackupInvalid(f"the backup holds files its manifest does not list: {extra[0]}, ...")
    return manifest


def target_check(manifest: Manifest, *, storage: Storage) -> bool:
    """Refuse a target instance that is not empty; return whether its schema must be made."""
    connection = connections[DEFAULT_DB_ALIAS]
    known = set(tables.code_migrations(connection))
    newer = sorted({tuple(n) for n in manifest.migrations} - known)
    if newer:
        raise tables.SchemaUnknown(
            f"the backup was made by a newer attrition (its schema has {newer[0][0]}."
            f"{newer[0][1]}, which this one does not): upgrade attrition, then restore"
        )
    applied = tables.applied_migrations(connection)
    with connection.cursor() as cursor:
        if not applied and connection.introspection.table_names(cursor):
            raise TargetNotEmpty(
                "the database holds tables that are not attrition's: restore into a database "
                "that has no tables yet"
            )
    if applied:
        full = tables.tables_with_rows(connection)
        if full:
            raise TargetNotEmpty(
                f"the database already holds data (in {', '.join(full[:3])}"
                f"{', ...' if len(full) > 3 else ''}): restore only into an empty instance "
                "(a new data directory, or a new database in DATABASE_URL)"
            )
        if set(applied) != {tuple(n) for n in manifest.migrations}:
            raise TargetNotEmpty(
                "the database has been migrated to another schema than the backup's: restore "
                "into a database that has no tables yet (a new data directory, or a new "
                "database in DATABASE_URL)"
            )
    first = storage_first(storage)
    if first is not None:
        raise TargetNotEmpty(
            f"the media storage already holds files (such as {first}): restore only into an "
            "empty instance"
        )
    return not applied


def table_lines(source: Source, entry: TableEntry) -> Iterator[list[Any]]:
    """Yield the rows of a table file of the backup."""
    with source.open(entry.file) as fh:
        for number, line in enumerate(fh, start=1):
            try:
                row = json.loads(line)
            except ValueError:
                raise BackupInvalid(f"line {number} of {entry.file} is not JSON") from None
            if not isinstance(row, list) or len(row) != len(entry.columns):
                raise BackupInvalid(f"line {number} of {entry.file} is not a row of the table")
            yield row


def rows_restore(source: Source, manifest: Manifest, schema: tables.Schema) -> dict[str, int]:
    """Insert every table's rows, then check each table's SHA-256 as the database now has it."""
    connection = connections[DEFAULT_DB_ALIAS]
    by_table = {m._meta.db_table: m for m in schema.models()}
    if set(by_table) != {t.table for t in manifest.database.tables}:
        raise BackupInvalid("the backup's tables are not those of the schema it names")
    tables.migrate_filled_clear(connection)
    counts: dict[str, int] = {}
    for entry in manifest.database.tables:
        model = by_table[entry.table]
        if entry.columns != tables.column_names(model):
            raise BackupInvalid(f"the columns of {entry.table} are not those of its schema")
        counts[entry.model] = tables.rows_write(
            model, table_lines(source, entry), connection=connection
        )
    tables.sequences_reset(list(by_table.values()), connection=connection)
    for entry in manifest.database.tables:
        rows, size, sha256 = table_dump(by_table[entry.table], using=DEFAULT_DB_ALIAS, out=None)
        if (rows, size, sha256) != (entry.rows, entry.bytes, entry.sha256):
            raise AttritionError(
                f"{entry.table} reads back as {rows} rows with SHA-256 {sha256}, not the "
                f"backup's {entry.rows} rows with {entry.sha256}: nothing was restored"
            )
    return counts


def media_restore(source: Source, *, storage: Storage, saved: list[str], scratch: Path) -> int:
    """Put every media file into storage under its name, checking its SHA-256 before and after."""
    total = 0
    for entry in media_entries(source):
        with tempfile.TemporaryFile(dir=scratch) as copy:
            with source.open(MEDIA_PREFIX + entry.name) as fh:
                size, sha256 = copy_hashed(fh, copy)
            if (size, sha256) != (entry.bytes, entry.sha256):
                raise BackupInvalid(f"{entry.name} changed while it was being restored")
            copy.seek(0)
            name = storage.save(entry.name, File(copy))
        saved.append(name)
        if name != entry.name:
            raise AttritionError(f"the media storage already holds {entry.name}")
        with storage.open(name, "rb") as fh:
            after = copy_hashed(fh, None)
        if after != (entry.bytes, entry.sha256):
            raise AttritionError(f"{entry.name} reads back from storage with another SHA-256")
        total += size
    return total


def backup_restore(*, path: Path, storage: Storage | None = None) -> RestoreReport:
    """Restore a backup into this (empty) instance; all of it or, on any error, nothing."""
    storage = storage or default_storage
    source = source_open(path)
    try:
        manifest = backup_verify(source)
        fresh = target_check(manifest, storage=storage)
        connection = connections[DEFAULT_DB_ALIAS]
        applied = [(app, name) for app, name in manifest.migrations]
        if fresh:
            tables.schema_migrate(applied, connection=connection)
        schema = tables.schema_for(applied, connection=connection)
        saved: list[str] = []
        scratch = Path(settings.DATA_DIR)
        try:
            try:
                with transaction.atomic():
                    counts = rows_restore(source, manifest, schema)
                    total = media_restore(source, storage=storage, saved=saved, scratch=scratch)
            except (IntegrityError, DataError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BackupInvalid(
                    f"the backup's rows break the schema's rules ({first}): nothing was restored"
                ) from None
        except BaseException:
            for name in saved:
                storage.delete(name)
            raise
    finally:
        source.close()
    # Up to this version's schema (nothing to do when the backup's is current); post_migrate
    # also puts the custody log's append-only triggers back.
    call_command("migrate", interactive=False, verbosity=0)
    return RestoreReport(
        rows=sum(counts.values()),
        tables=len(counts),
        files=len(saved),
        bytes=total,
        counts=counts,
    )
