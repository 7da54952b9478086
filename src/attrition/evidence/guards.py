"""Database triggers that make the custody log append-only, on SQLite and PostgreSQL.

An entry of a capture's custody log can be added, never changed or removed, whatever code or
SQL tries. SQLite drops triggers when a migration rebuilds the table, so they are reinstalled
after every migrate as well as by the migration that added them.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "evidence_custodyevent"
MESSAGE = "evidence_custody_log_append_only: custody log entries cannot be changed or removed"

# The SQL below is built from constants only, never from input.
SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"""
    CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
DROP = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    ],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
        f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
    ],
}


def custody_log_guard_install(*, connection: BaseDatabaseWrapper) -> None:
    """Create the append-only triggers if they are missing (safe to call any number of times)."""
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        if TABLE not in connection.introspection.table_names(cursor):
            return
        for sql in statements:
            cursor.execute(sql)


def custody_log_guard_drop(*, connection: BaseDatabaseWrapper) -> None:
    """Remove the append-only triggers."""
    with connection.cursor() as cursor:
        for sql in DROP.get(connection.vendor, []):
            cursor.execute(sql)


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """Reinstall the triggers after migrate, since SQLite table rebuilds drop them."""
    from django.db import connections

    custody_log_guard_install(connection=connections[using])
