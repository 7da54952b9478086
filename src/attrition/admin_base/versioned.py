"""Admins of audited models: each save records a version, directly or through a service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from attrition import history
from attrition.admin_base.forms import EditorForm, ServiceForm
from attrition.admin_base.history import Formatter, history_html
from attrition.admin_base.roles import M, RoleAdmin, role_of
from attrition.history import ChangeKind

# The `changed_via` of versions written through the admin.
VIA = "admin"


def _flat(fields: Any) -> list[str]:
    return [f for item in fields for f in (item if isinstance(item, list | tuple) else [item])]


class VersionedAdmin(RoleAdmin[M]):
    """An admin of an audited model: each save records a version, in the same transaction."""

    form = EditorForm
    status_field: ClassVar[str] = ""
    history_formatters: ClassVar[dict[str, Formatter]] = {}
    form_only_fields: ClassVar[tuple[str, ...]] = ("change_reason", "seen_version")

    def get_form(
        self, request: HttpRequest, obj: M | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {
            "user": request.user,
            "role": role_of(request.user),
            "status_field": self.status_field,
            "__module__": form.__module__,
        }
        return type(form.__name__, (form,), attrs)

    def get_fieldsets(self, request: HttpRequest, obj: M | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        if self.has_change_permission(request, obj):
            shown = {f for _, opts in fieldsets for f in _flat(opts["fields"])}
            if "seen_version" in shown:
                return fieldsets
            # The version the editor opened goes with the form, to refuse a stale save.
            (name, opts), *rest = fieldsets
            return [(name, {**opts, "fields": [*opts["fields"], "seen_version"]}), *rest]
        # A view-only page shows the record, not the inputs that only exist to edit it.
        return [
            (
                name,
                {**opts, "fields": [f for f in opts["fields"] if f not in self.form_only_fields]},
            )
            for name, opts in fieldsets
        ]

    def change_kind(self, form: forms.ModelForm[Any], change: bool) -> str:
        """Return the kind of change a saved form made: created, status changed or updated."""
        if not change:
            return ChangeKind.CREATE
        changed = set(form.changed_data) - set(self.form_only_fields)
        if self.status_field and changed == {self.status_field}:
            return ChangeKind.STATUS
        return ChangeKind.UPDATE

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        with transaction.atomic():
            if not change and hasattr(obj, "created_by_id") and obj.created_by_id is None:
                setattr(obj, "created_by", request.user)  # noqa: B010
            super().save_model(request, obj, form, change)
            history.record_version(
                obj,
                by=request.user,
                via=VIA,
                kind=self.change_kind(form, change),
                reason=form.cleaned_data.get("change_reason", ""),
            )

    @admin.display(description="history")
    def history_table(self, obj: M) -> str:
        return history_html(obj, formatters=self.history_formatters)


class ServiceAdmin(VersionedAdmin[M]):
    """An admin whose form writes through a service (see ServiceForm); the admin saves nothing."""

    form = ServiceForm

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if form.saved is not None:
            return form.saved
        return super().save_form(request, form, change)

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        if form.saved is None:
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if form.saved is None:
            super().save_related(request, form, formsets, change)
            return
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
