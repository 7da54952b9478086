"""The version history of a record, shown as field diffs, and read-only admins of version tables."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from django.contrib import admin
from django.db import models
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from attrition import history
from attrition.admin_base.links import record_link
from attrition.admin_base.roles import ALL_ROLES, ReadOnlyAdmin

# Version fields that change on every save and say nothing a reader needs.
HISTORY_SKIP = frozenset({"updated_at", "revision", "updated_by_id"})
Formatter = Callable[[Any], str]
VERSION_COLUMNS: tuple[str, ...] = (
    "record_ref",
    "version",
    "valid_from",
    "valid_to",
    "changed_by",
    "change_kind",
    "changed_via",
    "change_reason",
)


def _show(value: Any, formatter: Formatter | None = None) -> str:
    if formatter is not None and value is not None:
        return truncatechars(formatter(value), 160)
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = str(value)
    return truncatechars(text, 160)


def _diff_fields(record_model: type[models.Model], version_model: type[models.Model]) -> list[str]:
    names = [f.attname for f in history.audited_fields(record_model)]
    extra = [
        f.attname
        for f in version_model._meta.concrete_fields
        if f.name == "tag_names"  # extra columns a version table adds (losses keep tag names)
    ]
    return [n for n in [*names, *extra] if n not in HISTORY_SKIP]


def _fk_labels(
    record_model: type[models.Model], changes: Iterable[history.FieldChange]
) -> dict[tuple[str, Any], str]:
    """Return {(attname, id): label} for the foreign keys in `changes`, one query per model."""
    by_attname = {f.attname: f for f in record_model._meta.concrete_fields if f.is_relation}
    wanted: dict[str, set[Any]] = defaultdict(set)
    for change in changes:
        if change.field in by_attname:
            wanted[change.field].update(v for v in (change.old, change.new) if v is not None)
    labels: dict[tuple[str, Any], str] = {}
    for attname, ids in wanted.items():
        related = by_attname[attname].related_model
        assert isinstance(related, type)
        heavy = [f.name for f in related._meta.concrete_fields if isinstance(f, models.JSONField)]
        rows = related._default_manager.filter(pk__in=ids).defer(*heavy)
        labels.update({(attname, row.pk): f"{row} (#{row.pk})" for row in rows})
    return labels


def version_changes(
    record_model: type[models.Model], older: models.Model | None, newer: models.Model
) -> list[history.FieldChange]:
    """Return the audited field changes from one version row to the next (none for the first)."""
    if older is None:
        return []
    return history.diff(older, newer, fields=_diff_fields(record_model, type(newer)))


def changes_html(
    record_model: type[models.Model],
    changes: Sequence[history.FieldChange],
    *,
    formatters: dict[str, Formatter] | None = None,
    labels: dict[tuple[str, Any], str] | None = None,
) -> SafeString:
    """Return field changes as HTML lines "field: old → new"."""
    formatters = formatters or {}
    labels = labels if labels is not None else _fk_labels(record_model, changes)
    names = {f.attname: f.name for f in record_model._meta.concrete_fields}

    def show(attname: str, value: Any) -> str:
        if not isinstance(value, list | dict) and (attname, value) in labels:
            return labels[(attname, value)]
        return _show(value, formatters.get(names.get(attname, attname)))

    return format_html_join(
        SafeString("<br>"),
        "<b>{}</b>: {} → {}",
        (
            (
                names.get(c.field, c.field).replace("_", " "),
                show(c.field, c.old),
                show(c.field, c.new),
            )
            for c in changes
        ),
    )


def history_html(
    obj: models.Model,
    *,
    formatters: dict[str, Formatter] | None = None,
    revert_url: Callable[[int], str] | None = None,
) -> str:
    """Return the versions of `obj` as an HTML table, newest first: who, when, what, why."""
    if obj.pk is None:
        return "—"
    record_model = type(obj)
    version_model = history.versions_of(record_model)
    versions = list(
        version_model._default_manager.filter(record_id=obj.pk)
        .select_related("changed_by")
        .order_by("version")
    )
    pairs = [
        (v, version_changes(record_model, versions[i - 1] if i else None, v))
        for i, v in enumerate(versions)
    ]
    labels = _fk_labels(record_model, [c for _, changes in pairs for c in changes])
    rows = []
    for version, changes in reversed(pairs):
        v: Any = version
        shown = changes_html(record_model, changes, formatters=formatters, labels=labels)
        link = record_link(version_model, v.pk, f"v{v.version}")
        who, kind, via = v.changed_by or "—", v.get_change_kind_display(), v.changed_via or "—"
        why = v.change_reason or "—"
        latest = v.version == versions[-1].version  # type: ignore[attr-defined]
        revert = (
            format_html('<a href="{}">revert to v{}</a>', revert_url(v.version), v.version)
            if revert_url is not None and not latest
            else ""
        )
        shown_changes = shown if changes else "—"
        rows.append((link, _show(v.valid_from), who, kind, via, why, shown_changes, revert))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * 8 + "</tr>", rows)
    return format_html(
        "<table><thead><tr><th>version</th><th>when (UTC)</th><th>who</th><th>what</th>"
        "<th>via</th><th>why</th><th>changes</th><th></th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


class HistoryAdmin(ReadOnlyAdmin[Any]):
    """A read-only admin of a version table: who changed what, when, why, and the field diff."""

    record_model: ClassVar[type[models.Model]]
    formatters: ClassVar[dict[str, Formatter]] = {}
    list_display = VERSION_COLUMNS
    list_filter = ("change_kind", "changed_via")
    list_select_related = ("changed_by",)
    search_fields = ("record_id__exact", "change_reason", "changed_by__username")
    date_hierarchy = "valid_from"
    fields = (*VERSION_COLUMNS, "changes")
    readonly_fields = (*VERSION_COLUMNS, "changes")
    ordering = ("-valid_from",)

    @admin.display(description="record", ordering="record_id")
    def record_ref(self, obj: Any) -> SafeString:
        return record_link(self.record_model, obj.record_id, f"#{obj.record_id}")

    @admin.display(description="changes from the previous version")
    def changes(self, obj: Any) -> str:
        older = (
            type(obj)
            ._default_manager.filter(record_id=obj.record_id, version=obj.version - 1)
            .first()
        )
        if older is None:
            return "first version"
        changes = version_changes(self.record_model, older, obj)
        if not changes:
            return "no field changed"
        return changes_html(self.record_model, changes, formatters=self.formatters)


def history_register(
    record_model: type[models.Model],
    *,
    view_roles: frozenset[str] = ALL_ROLES,
    formatters: dict[str, Formatter] | None = None,
) -> None:
    """Register the version table of `record_model` as a read-only history admin."""
    version_model = history.versions_of(record_model)
    attrs = {
        "record_model": record_model,
        "view_roles": view_roles,
        "formatters": formatters or {},
        "__module__": __name__,
    }
    admin_cls = type(f"{version_model.__name__}Admin", (HistoryAdmin,), attrs)
    admin.site.register(version_model, admin_cls)
