"""Bulk writes for importers: losses, depictions, evidence and source records in batches.

An import creates thousands of records; writing them one by one through the services costs a
savepoint, a version look-up and several queries each. Here they are built and checked as the
services build and check them (`loss_build`, the same field validation), inserted with
`bulk_create` in batches, and each gets the first version the services would have written (a
CREATE version by the importing user, via "import"). The resulting rows are the same; only the
number of round trips differs. Duplicate-candidate refreshes are queued as a saved loss queues
them (bulk inserts send no `post_save`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from attrition import history
from attrition.dedup.receivers import queue as dedup_queue
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.evidence.services import platform_for
from attrition.history import ChangeKind
from attrition.importers.models import SourceRecord
from attrition.losses.models import Depiction, Loss

BATCH = 500
M = TypeVar("M", bound=models.Model)


@dataclass
class NewLoss:
    """One loss an import creates: the unsaved loss, the evidence showing it, its source record."""

    loss: Loss
    evidence: list[Evidence]
    record: SourceRecord
    item_number: int | None = None
    depictions: list[Depiction] = field(default_factory=list)


@dataclass
class NewLink:
    """One item an import links to an existing loss: the evidence it cites, its source record."""

    loss_id: int
    evidence: list[Evidence]
    record: SourceRecord
    item_number: int | None = None


def _user(by: Any) -> Any:
    return by if getattr(by, "is_authenticated", False) else None


def _insert(objs: list[M]) -> list[M]:
    """Insert `objs` in batches, setting their ids; a refused constraint becomes InvalidInput."""
    if not objs:
        return objs
    model = type(objs[0])
    try:
        with transaction.atomic():
            if connection.features.can_return_rows_from_bulk_insert:
                _insert_returning(objs)
            else:
                model._default_manager.bulk_create(objs, batch_size=BATCH)
    except IntegrityError as exc:
        text = str(exc)
        meta = model._meta
        named = next((c.name for c in meta.constraints if c.name in text), "")
        raise InvalidInput(
            f"{meta.verbose_name} is not valid: {named or text}",
            details={"constraint": named} if named else {},
        ) from None
    return objs


# Fields whose database value is the Python value itself (str, int, bool, None, an id).
PLAIN_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
    }
)
PLAIN_TYPES = (str, int, type(None))


class _Prepared:
    """Turns a model's values into database values as `get_db_prep_save` does, only faster.

    Plain values of plain fields pass as they are; other hashable values are prepared once per
    distinct value (a batch shares its timestamps and enums); the rest, one by one.
    """

    def __init__(self, fields: list[models.Field[Any, Any]]) -> None:
        self.fields = fields
        self.plain = [f.get_internal_type() in PLAIN_FIELDS for f in fields]
        self.memo: list[dict[Any, Any]] = [{} for _ in fields]

    def row(self, values: Sequence[Any]) -> list[Any]:
        out = []
        for i, value in enumerate(values):
            if self.plain[i] and type(value) in PLAIN_TYPES:
                out.append(value)
                continue
            try:
                memo = self.memo[i]
                if value not in memo:
                    memo[value] = self.fields[i].get_db_prep_save(value, connection)
                out.append(memo[value])
            except TypeError:  # unhashable: a dict or list of a JSON field
                out.append(self.fields[i].get_db_prep_save(value, connection))
        return out


def _insert_returning(objs: Sequence[models.Model]) -> None:
    """Insert new objects with multi-row INSERT ... RETURNING, as bulk_create does, and set ids."""
    meta = type(objs[0])._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for obj in objs:
        # As bulk_create does: a related object saved after it was assigned gives its id now.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    prepared = _Prepared(fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Names come from the model's own metadata, never from input.
    insert = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
    returning = f" RETURNING {quote(str(pk.column))}"
    size = max(1, min(BATCH, connection.ops.bulk_batch_size(fields, objs)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            rows = [prepared.row([getattr(obj, f.attname) for f in fields]) for obj in chunk]
            if connection.vendor == "postgresql":
                # One short statement, pipelined: psycopg parses a long one per placeholder.
                raw = cursor.cursor
                raw.executemany(insert + one + returning, rows, returning=True)
                ids = []
                while True:
                    ids.append(raw.fetchone()[0])
                    if not raw.nextset():
                        break
            else:
                params = [value for row in rows for value in row]
                cursor.execute(insert + ", ".join([one] * len(chunk)) + returning, params)
                ids = [row[0] for row in cursor.fetchall()]
            for obj, ident in zip(chunk, ids, strict=True):
                setattr(obj, pk.attname, ident)
                obj._state.adding = False
                obj._state.db = connection.alias


def _insert_values(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert plain rows (values by attname, defaults for the rest) in one executemany."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Names come from the model's own metadata, never from input.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    defaults = {f.attname: f.get_default() for f in fields}
    prepared = _Prepared(fields)
    values = [
        prepared.row([row.get(f.attname, defaults[f.attname]) for f in fields]) for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH):
            cursor.executemany(sql, values[start : start + BATCH])


def versions_create(
    instances: Sequence[models.Model],
    *,
    by: Any,
    reason: str = "",
    via: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the first (CREATE) version of each newly inserted record, as record_version does."""
    if not instances:
        return
    record_model = type(instances[0])
    version_cls = history.versions_of(record_model)
    fields = [f.attname for f in history.audited_fields(record_model)]
    common = {
        "version": 1,
        "valid_from": timezone.now(),
        "valid_to": None,
        "changed_by_id": getattr(_user(by), "pk", None),
        "change_kind": ChangeKind.CREATE.value,
        "change_reason": reason,
        "changed_via": via,
        **(extra or {}),
    }
    rows = []
    for instance in instances:
        row = {name: getattr(instance, name) for name in fields}
        row.update(common, record_id=instance.pk)
        rows.append(row)
    _insert_values(version_cls, rows)


def evidence_ensure(urls: Iterable[str], *, by: Any, via: str) -> dict[str, Evidence]:
    """Return the evidence of each canonical URL, creating (and versioning) the missing ones."""
    wanted = sorted(set(urls))
    found: dict[str, Evidence] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        found.update(
            {e.canonical_url or "": e for e in Evidence.objects.filter(canonical_url__in=chunk)}
        )
    user = _user(by)
    new = [
        Evidence(canonical_url=url, original_url=url, platform=platform_for(url), added_by=user)
        for url in wanted
        if url not in found
    ]
    _insert(new)
    versions_create(new, by=by, via=via)
    found.update({e.canonical_url or "": e for e in new})
    return found


def _validated(instance: models.Model) -> None:
    """Check field values as the services do, without a query per foreign key (held as objects)."""
    relations = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    try:
        instance.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in details.items())
        raise InvalidInput(
            f"{type(instance)._meta.verbose_name} is not valid: {summary}", details=details
        ) from None


def losses_write(
    new: Sequence[NewLoss], *, by: Any, via: str, reason: str, progress: Any = None
) -> None:
    """Insert the losses with their CREATE versions, depictions (versioned) and source records."""
    user = _user(by)
    for start in range(0, len(new), BATCH):
        chunk = new[start : start + BATCH]
        for item in chunk:
            _validated(item.loss)
        losses = _insert([item.loss for item in chunk])
        versions_create(losses, by=by, reason=reason, via=via, extra={"tag_names": []})
        depictions: list[Depiction] = []
        for item in chunk:
            item.depictions = [
                Depiction(
                    loss=item.loss,
                    evidence=evidence,
                    item_number=item.item_number,
                    created_by=user,
                )
                for evidence in item.evidence
            ]
            for depiction in item.depictions:
                _validated(depiction)
            depictions += item.depictions
        _insert(depictions)
        versions_create(depictions, by=by, via=via)
        records = []
        for item in chunk:
            item.record.loss = item.loss
            records.append(item.record)
        _insert(records)
        for loss in losses:
            dedup_queue(loss.pk)
        if progress is not None:
            progress.advance(len(chunk))


def links_write(links: Sequence[NewLink], *, by: Any, via: str) -> None:
    """Attach source records to existing losses, adding depictions for evidence they lack."""
    user = _user(by)
    for start in range(0, len(links), BATCH):
        chunk = links[start : start + BATCH]
        shown = set(
            Depiction.objects.filter(
                loss_id__in={link.loss_id for link in chunk}, deleted_at__isnull=True
            ).values_list("loss_id", "evidence_id")
        )
        depictions = []
        for link in chunk:
            for evidence in link.evidence:
                if (link.loss_id, evidence.pk) in shown:
                    continue
                shown.add((link.loss_id, evidence.pk))
                depiction = Depiction(
                    loss_id=link.loss_id,
                    evidence=evidence,
                    item_number=link.item_number,
                    created_by=user,
                )
                _validated(depiction)
                depictions.append(depiction)
        _insert(depictions)
        versions_create(depictions, by=by, via=via)
        for link in chunk:
            link.record.loss_id = link.loss_id
        _insert([link.record for link in chunk])
        for loss_id in sorted({link.loss_id for link in chunk}):
            dedup_queue(loss_id)
