"""Soft delete, restore and review actions, and the page that asks for their reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.utils import timezone

from attrition import history
from attrition.accounts.models import Role
from attrition.admin_base.roles import ADMINS, REVIEWERS, M, is_autocomplete, role_of
from attrition.admin_base.versioned import VIA, VersionedAdmin
from attrition.errors import AttritionError
from attrition.history import ChangeKind
from attrition.review import workflow
from attrition.review.workflow import Action

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
    """Soft delete plus the review actions of the workflow (review.workflow decides who may)."""

    review_roles: ClassVar[frozenset[str]] = REVIEWERS
    status_field = "status"
    actions: Any = [
        "submit",
        "mark_verified",
        "reject",
        "needs_changes",
        "reopen",
        "soft_delete",
        "restore",
    ]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.review_roles)

    def has_submit_permission(self, request: HttpRequest) -> bool:
        return role_of(request.user) is not None

    def has_reopen_permission(self, request: HttpRequest) -> bool:
        return role_of(request.user) == Role.ADMIN

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        # Contributors edit their own records while in review; reviewers and admins any live one.
        return obj is None or workflow.may_edit(request.user, obj)

    def _transition(
        self, request: HttpRequest, queryset: QuerySet[M], action: str, reason: str, done: str
    ) -> None:
        moved, refused = workflow.review_transition_many(
            records=list(queryset), action=action, by=request.user, reason=reason, via=VIA
        )
        for obj, why in refused:
            self.message_user(request, f"{obj}: {why}", messages.ERROR)
        if moved:
            self.message_user(request, done.format(n=len(moved)), messages.SUCCESS)

    def _with_reason(
        self, request: HttpRequest, queryset: QuerySet[M], action: str, title: str, done: str
    ) -> HttpResponse | None:
        reason, page = reason_asked(
            self, request, queryset, action=action, title=title, submit=title
        )
        if reason is None:
            return page
        # The admin action of each of these has the workflow action's name.
        self._transition(request, queryset, action, reason, done)
        return None

    @admin.action(description="Submit for review", permissions=["submit"])
    def submit(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._transition(request, queryset, Action.SUBMIT, "", "Submitted {n} record(s).")

    @admin.action(description="Mark verified", permissions=["review"])
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._transition(request, queryset, Action.VERIFY, "", "Marked {n} record(s) verified.")

    @admin.action(description="Reject (with reason)", permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        return self._with_reason(request, queryset, "reject", "Reject", "Rejected {n} record(s).")

    @admin.action(description="Needs changes (with a comment)", permissions=["review"])
    def needs_changes(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        return self._with_reason(
            request,
            queryset,
            "needs_changes",
            "Needs changes",
            "Sent {n} record(s) back to their authors.",
        )

    @admin.action(description="Reopen (admins, with reason)", permissions=["reopen"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        return self._with_reason(request, queryset, "reopen", "Reopen", "Reopened {n} record(s).")
