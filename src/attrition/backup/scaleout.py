"""Switch an embedded instance to the scale-out services named in a settings file, in one go.

 1. read the settings file (the one the scale-out services will run with) and check every value;
 2. reach the job queue (Redis or PostgreSQL) and the target database, which must be empty;
 3. copy every media file into the object storage, each hashed before and read back after
    (files already there with the same bytes are kept, so a stopped switch can be run again);
 4. move the database into PostgreSQL (`migrate-to`: all or nothing, counts and samples compared);
 5. open the job queue; capture jobs are database rows, so the workers take up queued ones.

The embedded instance is left as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.utils.module_loading import import_string

from attrition import config
from attrition.backup import tables
from attrition.backup.databases import database_alias
from attrition.backup.media import storage_names
from attrition.backup.moving import (
    MoveReport,
    database_migrate_to,
    target_describe,
    target_settings,
)
from attrition.backup.services import TargetNotEmpty
from attrition.errors import AttritionError, InvalidInput

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CHUNK = 1024 * 1024
ORIGINAL = re.compile(r"^captures/[0-9a-f]{2}/[0-9a-f]{2}/(?P<sha>[0-9a-f]{64})$")


@dataclass
class SwitchReport:
    """What the switch did: where each service is now, and what was copied."""

    queue: str = ""
    storage: str = ""
    files_copied: int = 0
    files_present: int = 0
    bytes_copied: int = 0
    database: MoveReport | None = None
    notes: list[str] = field(default_factory=list)


def env_file_read(path: Path) -> dict[str, str]:
    """Return the NAME=value lines of a settings file (systemd's EnvironmentFile format)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not NAME.match(name):
            raise InvalidInput(f"{path}, line {number}: not NAME=value: {raw.strip()[:60]!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[name] = value
    unknown = sorted(n for n in env if n.startswith("ATTRITION_") and n not in config.SETTINGS)
    if unknown:
        raise InvalidInput(
            f"{path} names settings that do not exist: {', '.join(unknown)} (see docs/settings.md)"
        )
    return env


def target_check(env: Mapping[str, str]) -> dict[str, Any]:
    """Check every setting of the target; return its database settings."""
    for setting in config.SETTINGS.values():
        setting.read(env)
    if config.QUEUE.read(env) == "sqlite":
        raise InvalidInput(
            "ATTRITION_QUEUE=sqlite keeps the queue on one machine: set redis://... or "
            "postgres://... in the settings file"
        )
    if not env.get("DATABASE_URL"):
        raise InvalidInput("the settings file sets no DATABASE_URL: give a postgres:// URL")
    return target_settings(env["DATABASE_URL"])


def queue_reach(env: Mapping[str, str]) -> str:
    """Connect to the target queue's server without writing anything; return where it is."""
    url = config.QUEUE.read(env)
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}{parts.path}"
    try:
        if config.QUEUE_SCHEMES[parts.scheme.lower()] == "redis":
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=10).ping()
        else:
            import psycopg

            with psycopg.connect(url, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
    except Exception as exc:  # any driver error: the message is what the user needs
        raise AttritionError(f"cannot reach the job queue at {where}: {exc}") from None
    return where


def queue_open(env: Mapping[str, str]) -> int:
    """Open the target queue as workers do (creating its tables on PostgreSQL); return its size."""
    options = config.queue_options(data_dir=settings.DATA_DIR, environ=env)
    huey_class = import_string(str(options.pop("huey_class")))
    huey = huey_class(config.QUEUE_NAME.read(env), **options)
    try:
        return int(huey.pending_count())
    finally:
        huey.storage.close()


def database_precheck(db: dict[str, Any]) -> None:
    """Refuse a target database that already holds data, before anything is copied."""
    with database_alias("attrition_switch_target", db) as target:
        full = tables.tables_with_rows(target)
    if full:
        raise TargetNotEmpty(
            f"the {target_describe(db)} already holds data (in {', '.join(full[:3])}): "
            "the switch needs an empty database"
        )


def target_storage(env: Mapping[str, str]) -> Storage | None:
    """Return the object storage the settings file names, or None when media stays local."""
    if config.STORAGE.read(env) == "local":
        return None
    options = config.storage_options(env)
    backend: Any = import_string(str(options["BACKEND"]))
    storage: Storage = backend(**dict(options["OPTIONS"]))  # type: ignore[call-overload]
    return storage


def digest_of(fh: IO[bytes]) -> tuple[str, int]:
    """Return the SHA-256 and size of what a file holds, read in chunks."""
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def media_copy(source: Storage, target: Storage, report: SwitchReport) -> None:
    """Copy every media file to the target under its name, checking its SHA-256 before and after."""
    for name in storage_names(source):
        with source.open(name, "rb") as fh:
            sha, size = digest_of(fh)
        original = ORIGINAL.match(name)
        if original and original["sha"] != sha:
            raise AttritionError(
                f"{name} no longer has the SHA-256 its name gives ({sha}): it has been altered "
                "or damaged; nothing more was copied"
            )
        if target.exists(name):
            with target.open(name, "rb") as fh:
                if digest_of(fh) != (sha, size):
                    raise AttritionError(
                        f"the object storage already holds {name} with other bytes: left "
                        "untouched; nothing more was copied"
                    )
            report.files_present += 1
            continue
        with source.open(name, "rb") as fh:
            saved = target.save(name, File(fh))
        with target.open(saved, "rb") as fh:
            if saved != name or digest_of(fh) != (sha, size):
                target.delete(saved)
                raise AttritionError(f"{name} did not arrive whole in the object storage")
        report.files_copied += 1
        report.bytes_copied += size


def instance_switch(*, settings_file: Path) -> SwitchReport:
    """Move this embedded instance to the services the settings file names; return what moved."""
    env = env_file_read(settings_file)
    db = target_check(env)
    report = SwitchReport(queue=queue_reach(env))
    database_precheck(db)
    target = target_storage(env)
    if target is None:
        report.storage = "local (media stays in this data directory)"
        report.notes.append(
            "ATTRITION_STORAGE=local: every web and worker machine needs this media directory"
        )
    else:
        report.storage = f"object storage, bucket {config.S3_BUCKET.read(env)}"
        media_copy(default_storage, target, report)
    report.database = database_migrate_to(url=env["DATABASE_URL"])
    queue_open(env)
    return report
