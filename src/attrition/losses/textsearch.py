"""The index behind the text filter of the public lists: a substring found without a table scan.

SQLite: an FTS5 table with the trigram tokenizer over a loss's four text columns, holding only
the index (external content: the text stays in losses_loss), kept in step by triggers.
PostgreSQL: a GIN index of trigrams (pg_trgm) over UPPER() of the same columns, the expressions
Django's icontains compares, so that those conditions are answered from the index.

Either finds text of MIN_LENGTH characters or more; a trigram index cannot find shorter text,
which is matched by a scan. SQLite drops a table's triggers when a migration rebuilds the table,
so they are put back after every migrate, and the index rebuilt, as rows may have changed
meanwhile (the merge guards in losses.guards have the same need).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "losses_loss_text"
COLUMNS = ("markings", "unit", "place_text", "description")
MIN_LENGTH = 3

# The SQL below is built from the constants above only, never from input.
_NAMES = ", ".join(COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in COLUMNS)
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in ("id", *COLUMNS))
# columnsize=0: no per-row token counts (they only serve ranking, which the lists do not do).
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5({_NAMES}, content='losses_loss', "
    "content_rowid='id', tokenize='trigram', columnsize=0)"
)
SQLITE_TRIGGERS = {
    f"{TABLE}_ins": f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_ins AFTER INSERT ON losses_loss BEGIN
      INSERT INTO {TABLE} (rowid, {_NAMES}) VALUES (new.id, {_NEW});
    END
    """,  # noqa: S608
    # An external-content index forgets a row by being given the values it indexed.
    f"{TABLE}_del": f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_del AFTER DELETE ON losses_loss BEGIN
      INSERT INTO {TABLE} ({TABLE}, rowid, {_NAMES}) VALUES ('delete', old.id, {_OLD});
    END
    """,  # noqa: S608
    # save() writes every column: only a change of the text (or the id) is indexed again.
    f"{TABLE}_upd": f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_upd AFTER UPDATE OF id, {_NAMES} ON losses_loss
    WHEN {_CHANGED} BEGIN
      INSERT INTO {TABLE} ({TABLE}, rowid, {_NAMES}) VALUES ('delete', old.id, {_OLD});
      INSERT INTO {TABLE} (rowid, {_NAMES}) VALUES (new.id, {_NEW});
    END
    """,  # noqa: S608
}
SQLITE_REBUILD = f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')"  # noqa: S608
POSTGRES_INDEX = ", ".join(f"UPPER({c}) gin_trgm_ops" for c in COLUMNS)
POSTGRES = [
    # Trusted since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_trgm ON losses_loss USING gin ({POSTGRES_INDEX})",
]
DROP = {
    "sqlite": [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
        f"DROP TABLE IF EXISTS {TABLE}",
    ],
    # The extension stays: other objects of the database may have come to use it.
    "postgresql": [f"DROP INDEX IF EXISTS {TABLE}_trgm"],
}


def text_index_install(*, connection: BaseDatabaseWrapper) -> None:
    """Create the text index of the losses and fill it from the rows there are."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in POSTGRES:
                cursor.execute(sql)
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_TABLE)
            cursor.execute(SQLITE_REBUILD)
            for sql in SQLITE_TRIGGERS.values():
                cursor.execute(sql)


def text_index_drop(*, connection: BaseDatabaseWrapper) -> None:
    """Remove the text index (and on SQLite its triggers)."""
    with connection.cursor() as cursor:
        for sql in DROP.get(connection.vendor, []):
            cursor.execute(sql)


def text_index_repair(*, connection: BaseDatabaseWrapper) -> bool:
    """Put back SQLite's triggers if a table rebuild dropped them, and rebuild the index then;
    return whether it had to."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name = %s OR (type = 'trigger' AND name IN "
            "(%s, %s, %s))",
            [TABLE, *SQLITE_TRIGGERS],
        )
        found = {row[0] for row in cursor.fetchall()}
        if TABLE not in found or found >= set(SQLITE_TRIGGERS):
            return False  # not migrated that far, or intact
        for sql in SQLITE_TRIGGERS.values():
            cursor.execute(sql)
        cursor.execute(SQLITE_REBUILD)
    return True


def on_post_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """Repair the SQLite text index after migrate (see the module's docstring)."""
    from django.db import connections

    text_index_repair(connection=connections[using])
