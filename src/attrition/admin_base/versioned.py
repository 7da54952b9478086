"""Admins of audited models: each save records a version, directly or through a service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse

from attrition import history
from attrition.admin_base.forms import EditorForm, ServiceForm
from attrition.admin_base.history import Formatter, history_html
from attrition.admin_base.roles import M, RoleAdmin, role_of
from attrition.errors import AttritionError
from attrition.history import ChangeKind

# The `changed_via` of versions written through the admin.
VIA = "admin"

REVERT_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}
<p>Reverting puts the content of <a href="{{ change_url }}">{{ object }}</a> back as it was; the
revert is itself a new version, so nothing is lost. Its review status stays as it is.</p>
{% if changes %}<table><thead><tr><th>field</th><th>now</th><th>after the revert</th></tr></thead>
<tbody>{% for field, now, then in changes %}<tr><td>{{ field }}</td><td>{{ now }}</td>
<td>{{ then }}</td></tr>{% endfor %}</tbody></table>
{% else %}<p>The content is already as that version had it.</p>{% endif %}
<form method="post">{% csrf_token %}
<p><label>Why (kept in the history) <input type="text" name="reason" size="80" maxlength="500">
</label></p>
<input type="submit" value="Revert"> <a href="{{ change_url }}">Cancel</a>
</form>
{% endblock %}
"""


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
        meta = self.opts

        def revert_url(version: int) -> str:
            name = f"admin:{meta.app_label}_{meta.model_name}_revert"
            return reverse(name, args=[obj.pk, version])

        # The display has no request: the links show to everyone who sees the history, and the
        # revert page itself refuses those who may not edit the record.
        return history_html(obj, formatters=self.history_formatters, revert_url=revert_url)

    # --- Revert to an earlier version --------------------------------------------------------

    def get_urls(self) -> list[Any]:
        meta = self.opts
        view = self.admin_site.admin_view(self.revert_view)
        name = f"{meta.app_label}_{meta.model_name}_revert"
        return [
            path("<path:object_id>/revert/<int:version>/", view, name=name),
            *super().get_urls(),
        ]

    def revert_one(self, request: HttpRequest, obj: M, version: int, reason: str) -> M:
        """Put `obj` back as version `version` had it (a new version); services may override."""
        reverted: M = history.record_revert(
            obj, version=version, by=request.user, reason=reason, via=VIA
        )  # type: ignore[assignment]
        return reverted

    def revert_view(self, request: HttpRequest, object_id: str, version: int) -> HttpResponse:
        """Ask for a reason, then revert a record to an earlier version of its content."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("no such record")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        versions = history.versions_of(type(obj))._default_manager
        past = versions.filter(record_id=obj.pk, version=version).first()
        if past is None:
            raise Http404(f"no version {version}")
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        if request.method == "POST":
            try:
                with transaction.atomic():
                    self.revert_one(request, obj, version, request.POST.get("reason", "").strip())
            except (AttritionError, ValidationError) as exc:
                text = exc.message if isinstance(exc, AttritionError) else "; ".join(exc.messages)
                self.message_user(request, f"Not reverted: {text}", messages.ERROR)
            else:
                self.message_user(request, f"{obj} is back to its content of version {version}.")
            return HttpResponseRedirect(change_url)
        changes = history.changes_since(obj, past)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revert {obj} to version {version}",
            "opts": self.opts,
            "object": obj,
            "changes": [
                (c.field, c.new, c.old) for c in changes if c.field not in history.KEPT_BY_REVERT
            ],
            "change_url": change_url,
        }
        return TemplateResponse(request, engines["django"].from_string(REVERT_PAGE), context)


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
