"""The database as portable rows: which tables, in which order, and how their values travel.

Rows are read through the models of the schema the database is at (its applied migrations), not
the code's current models, so a database that is behind the code is still read correctly. Every
value becomes JSON the way Django's own serializers do it (`value_to_string` / `to_python`), but
without their loss of microseconds; a row is one canonical JSON line, so two databases with the
same rows give the same bytes and the same SHA-256, whichever engine holds them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.apps.registry import Apps
from django.core.management.color import no_style
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from attrition.errors import AttritionError

# Tables that `migrate` fills by itself; an "empty" instance may hold these rows, and a restore
# replaces them with the backup's (so that every id stays what it was).
MIGRATE_FILLED = ("auth_permission", "django_content_type")
READ_CHUNK = 2000
WRITE_BATCH = 500

Node = tuple[str, str]


class SchemaUnknown(AttritionError):
    """The database or backup is at migrations this version of attrition does not have."""

    code = "schema_unknown"


@dataclass(frozen=True)
class Schema:
    """The migrations a database is at, and the models of that state."""

    applied: list[Node]
    apps: Apps

    def models(self) -> list[type[models.Model]]:
        """Return every table's model, each after the models it points at (where it can be)."""
        found = [
            m
            for m in self.apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy and not m._meta.swapped
        ]
        return dependency_order(found)


def leaves(nodes: Iterable[Node], graph: MigrationGraph) -> list[Node]:
    """Return the nodes none of whose children are among them: the state they reach."""
    found = set(nodes)
    return sorted(n for n in found if not {c.key for c in graph.node_map[n].children} & found)


def schema_migrate(applied: Sequence[Node], *, connection: BaseDatabaseWrapper) -> None:
    """Create the schema of `applied` in a database that has none (no post_migrate rows)."""
    executor = MigrationExecutor(connection)
    executor.migrate(leaves(applied, executor.loader.graph))


def schema_for(applied: Sequence[Node], *, connection: BaseDatabaseWrapper) -> Schema:
    """Return the schema reached by `applied`, or raise SchemaUnknown if the code lacks one."""
    loader = MigrationLoader(connection, ignore_no_migrations=True, load=True)
    unknown = sorted(set(applied) - set(loader.graph.nodes))
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise SchemaUnknown(
            f"the database is at migrations this version of attrition does not have ({names}"
            f"{', ...' if len(unknown) > 5 else ''}): use the version that made it, or a newer one",
            details={"unknown": [list(n) for n in unknown]},
        )
    state = loader.project_state(leaves(applied, loader.graph), at_end=True)
    return Schema(applied=sorted(applied), apps=state.apps)


def applied_migrations(connection: BaseDatabaseWrapper) -> list[Node]:
    """Return the migrations applied to a database (none when it has no tables yet)."""
    return sorted(MigrationRecorder(connection).applied_migrations())


def code_migrations(connection: BaseDatabaseWrapper) -> list[Node]:
    """Return every migration this version of attrition has."""
    loader = MigrationLoader(connection, ignore_no_migrations=True, load=True)
    return sorted(loader.graph.nodes)


def dependency_order(found: list[type[models.Model]]) -> list[type[models.Model]]:
    """Return the models sorted so that each comes after those it has foreign keys to.

    Cycles (rare, and harmless: foreign keys are checked at commit) are broken by name.
    """
    by_label = {m._meta.label_lower: m for m in found}
    needs = {
        label: {
            f.related_model._meta.label_lower
            for f in m._meta.local_concrete_fields
            if f.is_relation
            and f.related_model is not None
            and not isinstance(f.related_model, str)
            and f.related_model._meta.label_lower in by_label
            and f.related_model._meta.label_lower != label
        }
        for label, m in by_label.items()
    }
    ordered: list[str] = []
    done: set[str] = set()
    while len(ordered) < len(by_label):
        ready = sorted(label for label in by_label if label not in done and needs[label] <= done)
        if not ready:  # a cycle: take the one with the fewest unmet needs
            ready = [
                min(
                    (label for label in by_label if label not in done),
                    key=lambda label: (len(needs[label] - done), label),
                )
            ]
        for label in ready:
            ordered.append(label)
            done.add(label)
    return [by_label[label] for label in ordered]


def columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """Return the fields stored in the model's own table, in table order."""
    return [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]


def column_names(model: type[models.Model]) -> list[str]:
    """Return the names of the columns `columns` gives, in the same order."""
    return [str(f.column) for f in columns(model)]


def encode(field: models.Field[Any, Any], value: Any) -> Any:
    """Return a value as JSON can carry it, losslessly."""
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, bool | int | float | str):
        return value
    holder: Any = SimpleNamespace(**{field.attname: value})  # all value_to_string reads
    return field.value_to_string(holder)


def decode(field: models.Field[Any, Any], value: Any) -> Any:
    """Return the Python value that `encode` turned into `value`."""
    if value is None or isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def row_line(row: Sequence[Any]) -> bytes:
    """Return a row as one canonical JSON line (nested keys sorted)."""
    text = json.dumps(list(row), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def rows_read(model: type[models.Model], *, using: str) -> Iterator[list[Any]]:
    """Yield every row of a model's table, encoded, in primary-key order."""
    fields = columns(model)
    rows = (
        model._base_manager.using(using)
        .order_by("pk")
        .values_list(*(f.attname for f in fields))
        .iterator(chunk_size=READ_CHUNK)
    )
    for row in rows:
        yield [encode(f, v) for f, v in zip(fields, row, strict=True)]


def sample_pks(model: type[models.Model], *, using: str, size: int) -> list[Any]:
    """Return the primary keys of up to `size` rows from each end of a table and its middle."""
    qs = model._base_manager.using(using).order_by("pk")
    total = qs.count()
    pks: set[Any] = set()
    for offset in {0, max(total // 2 - size // 2, 0), max(total - size, 0)}:
        pks.update(qs.values_list("pk", flat=True)[offset : offset + size])
    return sorted(pks)


def rows_by_pk(model: type[models.Model], *, using: str, pks: Sequence[Any]) -> list[list[Any]]:
    """Return the encoded rows with these primary keys, in primary-key order."""
    fields = columns(model)
    qs = model._base_manager.using(using).filter(pk__in=list(pks)).order_by("pk")
    return [
        [encode(f, v) for f, v in zip(fields, row, strict=True)]
        for row in qs.values_list(*(f.attname for f in fields))
    ]


def rows_write(
    model: type[models.Model], rows: Iterable[list[Any]], *, connection: BaseDatabaseWrapper
) -> int:
    """Insert encoded rows into the model's table as they are (no save(), no signals)."""
    fields = columns(model)
    qn = connection.ops.quote_name
    # Identifiers come from the schema, values go as parameters.
    names = ", ".join(qn(c) for c in column_names(model))
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    written = 0
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            if len(row) != len(fields):
                raise ValueError(
                    f"{model._meta.db_table}: a row has {len(row)} values, not {len(fields)}"
                )
            batch.append(
                [
                    f.get_db_prep_save(decode(f, v), connection)
                    for f, v in zip(fields, row, strict=True)
                ]
            )
            if len(batch) >= WRITE_BATCH:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def sequences_reset(
    found: Sequence[type[models.Model]], *, connection: BaseDatabaseWrapper
) -> None:
    """Move every id sequence past the largest id now in its table (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(found))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def derived_tables(connection: BaseDatabaseWrapper) -> set[str]:
    """Return SQLite's virtual tables and their shadow tables: indexes made from other tables'
    rows (the losses' text search), which are no data of their own and are never copied."""
    if connection.vendor != "sqlite":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' "
            "AND type IN ('virtual', 'shadow')"
        )
        return {row[0] for row in cursor.fetchall()}


def tables_with_rows(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the tables that hold rows, besides those `migrate` fills by itself (and indexes)."""
    qn = connection.ops.quote_name
    skip = {*MIGRATE_FILLED, "django_migrations", *derived_tables(connection)}
    found = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in skip:
                continue
            cursor.execute(f"SELECT 1 FROM {qn(table)} LIMIT 1")  # noqa: S608 - a table name
            if cursor.fetchone() is not None:
                found.append(table)
    return found


def migrate_filled_clear(connection: BaseDatabaseWrapper) -> None:
    """Delete the rows `migrate` made by itself (permissions, content types), to be replaced."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in MIGRATE_FILLED:
            if table in tables:
                cursor.execute(f"DELETE FROM {qn(table)}")  # noqa: S608 - a constant name
