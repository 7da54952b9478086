"""Shared admin pieces: roles, versioned saves, service-backed forms, history, soft delete, review.

The role field of the user decides what the admin allows (superusers count as admins); Django's
per-model permission rows are not used. Every write of an audited record made here records a
version in the same transaction, through the services where there is one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.defaultfilters import truncatechars
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from attrition import history
from attrition.accounts.models import Role
from attrition.errors import AttritionError, StaleEdit
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus

M = TypeVar("M", bound=models.Model)

VIA = "admin"
ALL_ROLES: frozenset[str] = frozenset({Role.ADMIN, Role.REVIEWER, Role.CONTRIBUTOR})
REVIEWERS: frozenset[str] = frozenset({Role.ADMIN, Role.REVIEWER})
ADMINS: frozenset[str] = frozenset({Role.ADMIN})
NOBODY: frozenset[str] = frozenset()
# Statuses anyone who may edit can pick on a form; verifying and rejecting are review actions.
FORM_STATUSES = (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED)
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


def role_of(user: Any) -> str | None:
    """Return the admin role of a user (superusers are admins), or None if they are not staff."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        return None
    if getattr(user, "is_superuser", False):
        return str(Role.ADMIN)
    role = getattr(user, "role", None)
    return str(role) if role in ALL_ROLES else None


def is_autocomplete(request: HttpRequest) -> bool:
    """Return whether the request is the admin's autocomplete lookup for a related-field widget."""
    match = request.resolver_match
    return match is not None and match.url_name == "autocomplete"


def is_editing_autocomplete(request: HttpRequest) -> bool:
    """Return whether the request is an autocomplete of a form the user may fill in.

    Django's autocomplete view accepts any relation of any registered model, so the field must be
    one the source admin declares for autocompletion and the user must be able to edit with it.
    """
    if not is_autocomplete(request):
        return False
    try:
        source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        source_admin = admin.site.get_model_admin(source)
    except (KeyError, LookupError, NotRegistered):
        return False
    if request.GET.get("field_name") not in source_admin.get_autocomplete_fields(request):
        return False
    return source_admin.has_add_permission(request) or source_admin.has_change_permission(request)


def admin_link(obj: models.Model, text: str | None = None) -> SafeString:
    """Return a link to the admin change page of `obj`, or its text if it has none."""
    label = text if text is not None else str(obj)
    meta = obj._meta
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def record_link(model: type[models.Model], pk: Any, text: str) -> SafeString:
    """Return a link to the admin change page of the `model` row `pk`, without loading it."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)


if TYPE_CHECKING:

    class _ModelAdmin(admin.ModelAdmin[M]): ...

    class _Inline(admin.TabularInline[Any, Any]): ...

else:
    # Django's admin classes are not subscriptable at run time; the stubs make them generic.
    class _ModelAdmin(admin.ModelAdmin, Generic[M]): ...

    class _Inline(admin.TabularInline): ...


class RoleAdmin(_ModelAdmin[M]):
    """A model admin whose permissions follow the user's role, not Django's permission rows."""

    view_roles: ClassVar[frozenset[str]] = ALL_ROLES
    edit_roles: ClassVar[frozenset[str]] = ADMINS
    delete_roles: ClassVar[frozenset[str]] = NOBODY
    # Sources are https nearly always; also keeps Django 6's changed default out of the forms.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _role_in(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        return role_of(request.user) in roles

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.view_roles | self.edit_roles)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        if self._role_in(request, self.view_roles | self.edit_roles):
            return True
        # Editors who may not browse the taxonomy still pick models and places in autocompletes.
        return role_of(request.user) is not None and is_editing_autocomplete(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.edit_roles)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._role_in(request, self.edit_roles)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._role_in(request, self.delete_roles)


class TaxonomyAdmin(RoleAdmin[M]):
    """An admin of reference data: admins edit it, reviewers read it, contributors only pick it."""

    view_roles = REVIEWERS
    edit_roles = ADMINS
    delete_roles = ADMINS


class ReadOnlyAdmin(RoleAdmin[M]):
    """An admin that shows records nobody may add, change or delete here."""

    edit_roles = NOBODY
    delete_roles = NOBODY


class RoleInline(_Inline):
    """An inline whose permissions follow the user's role, like RoleAdmin."""

    edit_roles: ClassVar[frozenset[str]] = ADMINS
    extra = 0

    def _may_edit(self, request: HttpRequest) -> bool:
        return role_of(request.user) in self.edit_roles

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_of(request.user) is not None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)


# --- History -------------------------------------------------------------------------------


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


def history_html(obj: models.Model, *, formatters: dict[str, Formatter] | None = None) -> str:
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
        rows.append((link, _show(v.valid_from), who, kind, via, why, shown if changes else "—"))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows)
    return format_html(
        "<table><thead><tr><th>version</th><th>when (UTC)</th><th>who</th><th>what</th>"
        "<th>via</th><th>why</th><th>changes</th></tr></thead><tbody>{}</tbody></table>",
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


# --- Versioned saves and service-backed forms -----------------------------------------------


class EditorForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form that knows its user and restricts review statuses to what a form may set."""

    user: ClassVar[Any] = None
    role: ClassVar[str | None] = None
    status_field: ClassVar[str] = ""
    change_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why (kept in the history)",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get(self.status_field)
        if isinstance(field, forms.ChoiceField):
            field.choices = status_choices(
                current=getattr(self.instance, self.status_field, None), role=self.role
            )


def status_choices(*, current: str | None, role: str | None) -> list[tuple[str, str]]:
    """Return the statuses a form offers: draft/submitted (any status but merged for admins)."""
    allowed = set(ReviewStatus.values) - {ReviewStatus.MERGED}
    if role != Role.ADMIN:
        allowed = set(FORM_STATUSES)
    if current:
        allowed.add(current)
    return [(value, label) for value, label in ReviewStatus.choices if value in allowed]


class ServiceForm(EditorForm):
    """A form whose last validation step is the service call, so a refusal is a form error.

    `commit()` writes through a service and returns the saved record, or returns None to leave the
    save to the admin (a versioned save). It runs inside the admin's transaction, in a savepoint,
    so a refusal saves nothing.
    """

    # Service error detail keys that name a differently named form field.
    service_fields: ClassVar[dict[str, str]] = {}
    saved: models.Model | None = None

    def commit(self) -> models.Model | None:
        """Write the record through its service; return it (or None for a plain versioned save)."""
        return None

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            with transaction.atomic():
                self.saved = self.commit()
        except StaleEdit as exc:
            self.add_error(None, exc.message)
        except AttritionError as exc:
            self._add_service_error(exc)
        except IntegrityError as exc:
            self.add_error(None, f"The database refused the change: {exc}")

    def _add_service_error(self, exc: AttritionError) -> None:
        placed = False
        for key, value in exc.details.items():
            name = self.service_fields.get(key, key)
            if name in self.fields:
                messages_ = value if isinstance(value, list) else [exc.message]
                self.add_error(name, [str(m) for m in messages_])
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class VersionedAdmin(RoleAdmin[M]):
    """An admin of an audited model: each save records a version, in the same transaction."""

    form = EditorForm
    status_field: ClassVar[str] = ""
    history_formatters: ClassVar[dict[str, Formatter]] = {}
    form_only_fields: ClassVar[tuple[str, ...]] = ("change_reason",)

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
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
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


# --- Actions that ask for a reason -----------------------------------------------------------

REASON_PAGE = """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url changelist %}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}</div>{% endblock %}
{% block content %}
<p>{{ intro }}</p>
<ul>{% for obj in objects %}<li>{{ obj }}</li>{% endfor %}</ul>
<form method="post">{% csrf_token %}
{% for obj in objects %}<input type="hidden" name="_selected_action" value="{{ obj.pk }}">
{% endfor %}<input type="hidden" name="action" value="{{ action }}">
<input type="hidden" name="confirm" value="yes">
{{ form.as_p }}
<input type="submit" value="{{ submit }}"> <a href="{% url changelist %}">Cancel</a>
</form>
{% endblock %}
"""


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Kept in the history of each record.",
    )


def reason_asked(
    admin_: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    submit: str,
) -> tuple[str | None, HttpResponse | None]:
    """Return (reason, None) once confirmed, else (None, the page that asks for the reason)."""
    form = ReasonForm(request.POST) if request.POST.get("confirm") == "yes" else ReasonForm()
    if form.is_bound and form.is_valid():
        return str(form.cleaned_data["reason"]).strip(), None
    meta = admin_.opts
    context = {
        **admin_.admin_site.each_context(request),
        "title": title,
        "intro": f"{title}: give the reason, kept in the history of each record.",
        "objects": list(queryset),
        "action": action,
        "submit": submit,
        "form": form,
        "opts": meta,
        "changelist": f"admin:{meta.app_label}_{meta.model_name}_changelist",
    }
    template = engines["django"].from_string(REASON_PAGE)
    return None, TemplateResponse(request, template, context)


# --- Soft delete -------------------------------------------------------------------------------


class DeletedFilter(admin.SimpleListFilter):
    """Show live records by default; deleted ones, or all, on request."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "no"), ("yes", "yes"), ("all", "all")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "no"
        if value == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def _touch_fields(obj: models.Model, *names: str) -> list[str]:
    has_updated = any(f.name == "updated_at" for f in obj._meta.concrete_fields)
    return [*names, "updated_at"] if has_updated else list(names)


class SoftDeleteAdmin(VersionedAdmin[M]):
    """An admin with no hard delete: "Delete (soft)" with a reason, and "Restore" for admins."""

    soft_delete_roles: ClassVar[frozenset[str]] = REVIEWERS
    restore_roles: ClassVar[frozenset[str]] = ADMINS
    actions: Any = ["soft_delete", "restore"]

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.soft_delete_roles)

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.restore_roles)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        if obj is not None and getattr(obj, "deleted_at", None) is not None:
            return False  # restore it first
        return super().has_change_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        queryset = super().get_queryset(request)
        if is_autocomplete(request):
            return queryset.filter(deleted_at__isnull=True)
        return queryset

    @admin.display(description="deleted", boolean=True, ordering="deleted_at")
    def is_deleted(self, obj: M) -> bool:
        return getattr(obj, "deleted_at", None) is not None

    def soft_delete_one(self, request: HttpRequest, obj: M, reason: str) -> None:
        """Mark one record deleted and record the deletion as a version."""
        obj.deleted_at = timezone.now()  # type: ignore[attr-defined]
        obj.save(update_fields=_touch_fields(obj, "deleted_at"))
        history.record_version(obj, by=request.user, via=VIA, kind=ChangeKind.DELETE, reason=reason)

    def restore_one(self, request: HttpRequest, obj: M) -> None:
        """Bring one deleted record back and record the restoration as a version."""
        obj.deleted_at = None  # type: ignore[attr-defined]
        obj.save(update_fields=_touch_fields(obj, "deleted_at"))
        history.record_version(obj, by=request.user, via=VIA, kind=ChangeKind.RESTORE)

    def _each(
        self, request: HttpRequest, objects: Iterable[M], apply: Callable[[M], None], done: str
    ) -> None:
        """Apply `apply` to each object in its own transaction; report failures and the count."""
        count = 0
        for obj in objects:
            try:
                with transaction.atomic():
                    apply(obj)
            except AttritionError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(n=count), messages.SUCCESS)

    @admin.action(description="Delete (soft), giving a reason", permissions=["soft_delete"])
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        live = queryset.filter(deleted_at__isnull=True)
        reason, page = reason_asked(
            self, request, live, action="soft_delete", title="Delete (soft)", submit="Delete"
        )
        if reason is None:
            return page
        self._each(
            request,
            live,
            lambda obj: self.soft_delete_one(request, obj, reason),
            "Deleted {n} record(s); they stay on record and an admin can restore them.",
        )
        return None

    @admin.action(description="Restore deleted records", permissions=["restore"])
    def restore(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._each(
            request,
            queryset.filter(deleted_at__isnull=False),
            lambda obj: self.restore_one(request, obj),
            "Restored {n} record(s).",
        )


# --- Review ------------------------------------------------------------------------------------


class ReviewAdmin(SoftDeleteAdmin[M]):
    """Soft delete plus the review actions: mark verified (four-eyes), reject, send back."""

    review_roles: ClassVar[frozenset[str]] = REVIEWERS
    status_field = "status"
    actions: Any = ["mark_verified", "reject", "send_back", "soft_delete", "restore"]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.review_roles)

    def authors(self, obj: M) -> set[Any]:
        """Return the ids of the users who created or last edited `obj` (four-eyes rule)."""
        ids = {getattr(obj, "created_by_id", None), getattr(obj, "updated_by_id", None)}
        if not hasattr(obj, "updated_by_id"):
            version_model = history.versions_of(type(obj))
            last_edit = (
                version_model._default_manager.filter(
                    record_id=obj.pk, change_kind__in=[ChangeKind.CREATE, ChangeKind.UPDATE]
                )
                .order_by("-version")
                .values_list("changed_by_id", flat=True)
                .first()
            )
            ids.add(last_edit)
        return ids - {None}

    def set_status_one(self, request: HttpRequest, obj: M, status: str, reason: str) -> None:
        """Move one record to `status` and record the change as a version."""
        setattr(obj, self.status_field, status)
        obj.save(update_fields=_touch_fields(obj, self.status_field))
        history.record_version(obj, by=request.user, via=VIA, kind=ChangeKind.STATUS, reason=reason)

    def _may_verify(self, request: HttpRequest, obj: M) -> bool:
        if role_of(request.user) == Role.ADMIN or request.user.pk not in self.authors(obj):
            return True
        self.message_user(
            request,
            f"You cannot verify {obj}: you created or last edited it, and nobody verifies their "
            "own work (four-eyes rule). Another reviewer has to verify it.",
            messages.ERROR,
        )
        return False

    def _live(self, queryset: QuerySet[M]) -> QuerySet[M]:
        return queryset.filter(deleted_at__isnull=True).exclude(
            **{self.status_field: ReviewStatus.MERGED}
        )

    @admin.action(description="Mark verified", permissions=["review"])
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        allowed = [obj for obj in self._live(queryset) if self._may_verify(request, obj)]
        self._each(
            request,
            allowed,
            lambda obj: self.set_status_one(request, obj, ReviewStatus.VERIFIED, ""),
            "Marked {n} record(s) verified.",
        )

    @admin.action(description="Reject (with reason)", permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        live = self._live(queryset)
        reason, page = reason_asked(
            self, request, live, action="reject", title="Reject", submit="Reject"
        )
        if reason is None:
            return page
        self._each(
            request,
            live,
            lambda obj: self.set_status_one(request, obj, ReviewStatus.REJECTED, reason),
            "Rejected {n} record(s).",
        )
        return None

    @admin.action(description="Send back to submitted", permissions=["review"])
    def send_back(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._each(
            request,
            self._live(queryset),
            lambda obj: self.set_status_one(request, obj, ReviewStatus.SUBMITTED, ""),
            "Sent {n} record(s) back to submitted.",
        )


class SideFilter(admin.RelatedFieldListFilter):
    """A filter by side whose choices load their conflicts in the same query."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        sides = field.related_model._default_manager.select_related("conflict")
        return [(side.pk, str(side)) for side in sides.order_by(*ordering)]
