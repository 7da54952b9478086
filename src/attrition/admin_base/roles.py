"""Admin roles: who may view, edit and delete, and the admin bases whose permissions follow them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.db import models
from django.http import HttpRequest

from attrition.accounts.models import Role

M = TypeVar("M", bound=models.Model)

ALL_ROLES: frozenset[str] = frozenset({Role.ADMIN, Role.REVIEWER, Role.CONTRIBUTOR})
REVIEWERS: frozenset[str] = frozenset({Role.ADMIN, Role.REVIEWER})
ADMINS: frozenset[str] = frozenset({Role.ADMIN})
NOBODY: frozenset[str] = frozenset()


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
