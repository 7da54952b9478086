"""Database triggers that keep merges one level deep, on SQLite and PostgreSQL.

A loss may only be merged into a live (not merged) loss, and a loss that others were merged into
cannot itself become merged. SQLite drops triggers whenever a migration rebuilds the table, so
they are (re)installed idempotently after every migrate as well as by the migration that added them.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

MESSAGE = "losses_loss_merge_target_live: a loss can only be merged into a loss that is not merged"

# The SQL below is built from the constant MESSAGE only, never from input (hence S608 off).
SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS losses_loss_merge_guard_ins BEFORE INSERT ON losses_loss
    WHEN NEW.merged_into_id IS NOT NULL
      AND (SELECT status FROM losses_loss WHERE id = NEW.merged_into_id) = 'merged'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS losses_loss_merge_guard_upd
    BEFORE UPDATE OF merged_into_id, status ON losses_loss
    WHEN (NEW.merged_into_id IS NOT NULL
          AND (SELECT status FROM losses_loss WHERE id = NEW.merged_into_id) = 'merged')
      OR (NEW.status = 'merged'
          AND EXISTS (SELECT 1 FROM losses_loss WHERE merged_into_id = NEW.id))
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION losses_loss_merge_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.merged_into_id IS NOT NULL AND EXISTS (
          SELECT 1 FROM losses_loss WHERE id = NEW.merged_into_id AND status = 'merged') THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF NEW.status = 'merged' AND EXISTS (
          SELECT 1 FROM losses_loss WHERE merged_into_id = NEW.id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS losses_loss_merge_guard ON losses_loss",
    """
    CREATE TRIGGER losses_loss_merge_guard
    BEFORE INSERT OR UPDATE OF merged_into_id, status ON losses_loss
    FOR EACH ROW EXECUTE FUNCTION losses_loss_merge_guard()
    """,
]
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS losses_loss_merge_guard_ins",
        "DROP TRIGGER IF EXISTS losses_loss_merge_guard_upd",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS losses_loss_merge_guard ON losses_loss",
        "DROP FUNCTION IF EXISTS losses_loss_merge_guard()",
    ],
}


def merge_guard_install(*, connection: BaseDatabaseWrapper) -> None:
    """Create the merge triggers if they are missing (safe to call any number of times)."""
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        if "losses_loss" not in connection.introspection.table_names(cursor):
            return
        for sql in statements:
            cursor.execute(sql)


def merge_guard_drop(*, connection: BaseDatabaseWrapper) -> None:
    """Remove the merge triggers."""
    with connection.cursor() as cursor:
        for sql in DROP.get(connection.vendor, []):
            cursor.execute(sql)


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """Reinstall the triggers after migrate, since SQLite table rebuilds drop them."""
    from django.db import connections

    merge_guard_install(connection=connections[using])
