"""Move an embedded (SQLite) instance's database into an empty PostgreSQL database.

The schema is made by the migrations, the rows are copied from one consistent snapshot in
dependency order in one transaction, the id sequences are moved past the copied ids, and every
table's count and a sample of its rows are compared before the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from attrition.backup import tables
from attrition.backup.databases import database_alias, snapshot
from attrition.backup.services import TargetNotEmpty
from attrition.config import SettingError
from attrition.errors import AttritionError

TARGET = "attrition_move_target"
SAMPLE = 50


@dataclass
class MoveReport:
    """What was copied, table by table."""

    target: str
    counts: dict[str, int] = field(default_factory=dict)
    sampled: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def target_settings(url: str) -> dict[str, Any]:
    """Return the connection settings of a PostgreSQL URL, without a pool; fail on others."""
    from attrition.settings import database_settings

    try:
        db = database_settings(url, data_dir=settings.DATA_DIR)
    except SettingError as exc:
        raise AttritionError(str(exc).replace("DATABASE_URL=", "")) from None
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise AttritionError("migrate-to moves the database to PostgreSQL: give a postgres:// URL")
    db["OPTIONS"] = {k: v for k, v in db["OPTIONS"].items() if k != "pool"}
    return db


def target_describe(db: dict[str, Any]) -> str:
    """Return "database NAME on HOST", without any password."""
    return f"PostgreSQL database {db['NAME']} on {db.get('HOST') or 'localhost'}"


def full_schema(connection: Any) -> bool:
    """Return whether a database has any table at all."""
    with connection.cursor() as cursor:
        return bool(connection.introspection.table_names(cursor))


def compare(model: Any, *, source: str, target: str) -> int:
    """Raise unless both databases hold as many rows, and the same sampled rows; return sampled."""
    label = model._meta.label_lower
    have = model._base_manager.using(source).count()
    got = model._base_manager.using(target).count()
    if have != got:
        raise AttritionError(f"{label}: {got} rows copied of {have}; nothing was moved")
    pks = tables.sample_pks(model, using=source, size=SAMPLE)
    if tables.rows_by_pk(model, using=source, pks=pks) != tables.rows_by_pk(
        model, using=target, pks=pks
    ):
        raise AttritionError(f"{label}: copied rows differ from the originals; nothing was moved")
    return len(pks)


def database_migrate_to(*, url: str) -> MoveReport:
    """Copy this SQLite instance's database into the empty PostgreSQL database at `url`."""
    if connections[DEFAULT_DB_ALIAS].vendor != "sqlite":
        raise AttritionError(
            "migrate-to moves an embedded SQLite instance; this one already uses "
            f"{connections[DEFAULT_DB_ALIAS].display_name} (DATABASE_URL)"
        )
    db = target_settings(url)
    report = MoveReport(target=target_describe(db))
    with database_alias(TARGET, db) as target, snapshot(scratch=settings.DATA_DIR) as alias:
        source = connections[alias]
        applied = tables.applied_migrations(source)
        if not applied:
            raise AttritionError("this instance's database has no tables: nothing to move")
        schema = tables.schema_for(applied, connection=source)
        existing = tables.applied_migrations(target)
        full = tables.tables_with_rows(target)
        if full:
            raise TargetNotEmpty(
                f"the {report.target} already holds data (in {', '.join(full[:3])}"
                f"{', ...' if len(full) > 3 else ''}): migrate-to needs an empty database"
            )
        if not existing and full_schema(target):
            raise TargetNotEmpty(
                f"the {report.target} holds tables that are not attrition's: give a database "
                "that has no tables yet"
            )
        if existing and set(existing) != set(applied):
            raise TargetNotEmpty(
                f"the {report.target} has been migrated to another schema than this "
                "instance's: give a database that has no tables yet"
            )
        if not existing:
            tables.schema_migrate(applied, connection=target)
        found = schema.models()
        with transaction.atomic(using=TARGET):
            tables.migrate_filled_clear(target)
            for model in found:
                rows = tables.rows_read(model, using=alias)
                report.counts[model._meta.label_lower] = tables.rows_write(
                    model, rows, connection=target
                )
            tables.sequences_reset(found, connection=target)
            for model in found:
                report.sampled += compare(model, source=alias, target=TARGET)
        # Up to this version's schema, with the custody log's triggers (post_migrate).
        call_command("migrate", database=TARGET, interactive=False, verbosity=0)
    return report
