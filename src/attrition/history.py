"""Temporal version tables: one row per version of an audited record, valid from..to.

Each audited model gets a sibling `<Model>Version` table made by `version_model()`. A service that
changes an audited record calls `record_version()` in the same transaction: the current version row
is closed (`valid_to` set) and a new one opened. Field diffs are derived from consecutive versions,
and "as of D" reads the versions valid at D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone


class ChangeKind(models.TextChoices):
    CREATE = "create", "created"
    UPDATE = "update", "updated"
    STATUS = "status", "status changed"
    MERGE = "merge", "merged"
    DELETE = "delete", "deleted"
    RESTORE = "restore", "restored"
    REVERT = "revert", "reverted"
    IMPORT = "import", "imported"


_SKIP_KWARGS = ("unique", "db_index", "primary_key", "auto_now", "auto_now_add", "db_comment")
VERSION_MODELS: dict[type[models.Model], type[models.Model]] = {}
# Per audited model, the fields left out of its versions (operational state, not the record).
UNVERSIONED: dict[type[models.Model], frozenset[str]] = {}


def _copy_field(model: type[models.Model], field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    if isinstance(field, models.ForeignKey):
        # Built by hand: deconstruct() of a relation needs the app registry, not ready here.
        target: Any = field.remote_field.model
        return models.ForeignKey(
            model if target == "self" else target,
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            related_name="+",
            db_index=False,
            null=field.null,
            blank=True,
            verbose_name=field.verbose_name,
        )
    _name, _path, args, kwargs = field.deconstruct()
    for key in _SKIP_KWARGS:
        kwargs.pop(key, None)
    if isinstance(field, models.DateTimeField | models.DateField):
        kwargs.pop("default", None)
        kwargs["null"] = True
    return field.__class__(*args, **kwargs)


def version_model(
    model: type[models.Model],
    *,
    extra: dict[str, models.Field[Any, Any]] | None = None,
    indexes: list[models.Index] | None = None,
    exclude: tuple[str, ...] = (),
) -> type[models.Model]:
    """Return a new model class holding the versions of `model` (call once, in models.py)."""
    UNVERSIONED[model] = frozenset(exclude)
    meta = model._meta
    name = f"{model.__name__}Version"
    table = f"{meta.db_table}_version"
    attrs: dict[str, Any] = {
        "__module__": model.__module__,
        "record": models.ForeignKey(
            model, on_delete=models.PROTECT, related_name="versions", db_index=False
        ),
        "version": models.PositiveIntegerField(),
        "valid_from": models.DateTimeField(),
        "valid_to": models.DateTimeField(null=True, blank=True),
        "changed_by": models.ForeignKey(
            settings.AUTH_USER_MODEL,
            on_delete=models.PROTECT,
            null=True,
            blank=True,
            related_name="+",
        ),
        "change_kind": models.CharField(max_length=16, choices=ChangeKind.choices),
        "change_reason": models.TextField(blank=True, default=""),
        "changed_via": models.CharField(max_length=16, blank=True, default=""),
    }
    for field in meta.concrete_fields:
        if field.primary_key or field.name in exclude:
            continue
        if field.name in attrs:
            raise ValueError(
                f"{model.__name__}.{field.name} has the name of a column of its version table: "
                "rename the field"
            )
        attrs[field.name] = _copy_field(model, field)
    attrs.update(extra or {})
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "db_table": table,
            "app_label": meta.app_label,
            "ordering": ["record_id", "version"],
            "verbose_name": f"{meta.verbose_name} version",
            "constraints": [
                models.UniqueConstraint(
                    fields=["record", "version"], name=f"{table}_record_version_uniq"
                ),
                models.UniqueConstraint(
                    fields=["record"],
                    condition=Q(valid_to__isnull=True),
                    name=f"{table}_one_current",
                ),
                models.CheckConstraint(
                    condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                    name=f"{table}_valid_range",
                ),
            ],
            "indexes": [
                models.Index(fields=["record", "valid_from"], name=f"{table[:20]}_rec_from"),
                models.Index(fields=["valid_from", "valid_to"], name=f"{table[:20]}_from_to"),
                *(indexes or []),
            ],
        },
    )
    version_cls: type[models.Model] = type(name, (models.Model,), attrs)
    VERSION_MODELS[model] = version_cls
    return version_cls


def versions_of(model: type[models.Model]) -> type[models.Model]:
    """Return the version model registered for `model`."""
    try:
        return VERSION_MODELS[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not audited") from None


def audited_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """Return the fields of `model` whose values each version keeps."""
    skip = UNVERSIONED.get(model, frozenset())
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in skip]


def record_version(
    instance: models.Model,
    *,
    by: Any = None,
    kind: str = ChangeKind.UPDATE,
    reason: str = "",
    via: str = "",
    extra: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> models.Model:
    """Close the record's current version and open a new one holding its present values."""
    version_cls = versions_of(type(instance))
    now = at or timezone.now()
    with transaction.atomic():
        current = (
            version_cls._default_manager.select_for_update()
            .filter(record_id=instance.pk, valid_to__isnull=True)
            .first()
        )
        number = 1
        if current is not None:
            # Versions must be strictly ordered even when two writes share a clock tick.
            if now <= current.valid_from:  # type: ignore[attr-defined]
                now = current.valid_from + dt.timedelta(microseconds=1)  # type: ignore[attr-defined]
            current.valid_to = now  # type: ignore[attr-defined]
            current.save(update_fields=["valid_to"])
            number = current.version + 1  # type: ignore[attr-defined]
        values = {f.attname: getattr(instance, f.attname) for f in audited_fields(type(instance))}
        values.update(extra or {})
        return version_cls._default_manager.create(
            record_id=instance.pk,
            version=number,
            valid_from=now,
            changed_by=by if by is None or getattr(by, "is_authenticated", False) else None,
            change_kind=kind,
            change_reason=reason,
            changed_via=via,
            **values,
        )


def valid_at(queryset: QuerySet[Any], when: dt.datetime) -> QuerySet[Any]:
    """Filter a version queryset to the versions that were current at `when`."""
    return queryset.filter(valid_from__lte=when).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=when)
    )


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def diff(
    older: models.Model | None, newer: models.Model, *, fields: list[str]
) -> list[FieldChange]:
    """Return the field changes from one version to the next (every field if `older` is None)."""
    changes = []
    for name in fields:
        new = getattr(newer, name)
        old = getattr(older, name) if older is not None else None
        if older is None or old != new:
            changes.append(FieldChange(field=name, old=old, new=new))
    return changes


def version_values(version: models.Model) -> dict[str, Any]:
    """Return the record's audited values as one of its version rows holds them, by attname."""
    record_model = next(m for m, v in VERSION_MODELS.items() if v is type(version))
    return {f.attname: getattr(version, f.attname) for f in audited_fields(record_model)}


def latest_version(instance: models.Model) -> models.Model | None:
    """Return the current version row of a record (None before its first version)."""
    return (
        versions_of(type(instance))
        ._default_manager.filter(record_id=instance.pk, valid_to__isnull=True)
        .select_related("changed_by")
        .first()
    )


# Values that change on every save and say nothing about what an editor changed.
_NOISE = frozenset({"updated_at", "revision", "updated_by_id", "created_at"})


def changes_since(instance: models.Model, seen: models.Model | None) -> list[FieldChange]:
    """Return what changed in a record between version row `seen` and its current version."""
    current = latest_version(instance)
    if current is None or seen is None:
        return []
    fields = [f.attname for f in audited_fields(type(instance)) if f.attname not in _NOISE] + [
        f.attname for f in type(current)._meta.concrete_fields if f.name == "tag_names"
    ]
    return diff(seen, current, fields=fields)


def changes_text(changes: list[FieldChange]) -> str:
    """Return field changes as one sentence: "markings: '211' -> '212'; fate: ..."."""

    def show(value: Any) -> str:
        text = repr(value) if not isinstance(value, str) else f"'{value}'"
        return text if len(text) <= 80 else text[:77] + "..."

    return "; ".join(
        f"{c.field.removesuffix('_id').replace('_', ' ')}: {show(c.old)} -> {show(c.new)}"
        for c in changes
    )


# What a revert leaves as it is: review state, deletion, merging and bookkeeping have their own
# actions, and a revert puts back only what an editor wrote.
KEPT_BY_REVERT = frozenset(
    {
        "status",
        "review_status",
        "status_reason",
        "merged_into_id",
        "deleted_at",
        "created_by_id",
        "created_at",
        "updated_at",
        "updated_by_id",
        "revision",
    }
)


def record_revert(
    instance: models.Model, *, version: int, by: Any = None, reason: str = "", via: str = ""
) -> models.Model:
    """Put a record's content back as one of its versions had it; the revert is a new version."""
    version_cls = versions_of(type(instance))
    past = version_cls._default_manager.filter(record_id=instance.pk, version=version).first()
    if past is None:
        from attrition.errors import InvalidInput

        raise InvalidInput(f"{instance} has no version {version}")
    with transaction.atomic():
        current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        for field in audited_fields(type(instance)):
            if field.attname not in KEPT_BY_REVERT:
                setattr(current, field.attname, getattr(past, field.attname))
        if hasattr(current, "updated_by_id") and getattr(by, "is_authenticated", False):
            current.updated_by_id = by.pk
        current.full_clean(validate_constraints=False)
        current.save()
        record_version(
            current,
            by=by,
            kind=ChangeKind.REVERT,
            reason=reason or f"reverted to version {version}",
            via=via,
        )
    return current
