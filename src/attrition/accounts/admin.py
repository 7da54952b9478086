"""Admin for user accounts and their roles: admins only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse

from attrition.accounts.models import ApiToken, Role, User
from attrition.accounts.services import password_link_create
from attrition.admin_base.roles import ADMINS, NOBODY, RoleAdmin, RoleInline
from attrition.errors import AttritionError

# Roles decide what people may do (see attrition.admin_base), so groups would only mislead.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ApiTokenInline(RoleInline):
    """A user's API tokens, for admins to see (never their keys); revoking is the user's page."""

    model = ApiToken
    edit_roles = NOBODY
    fields = ("name", "prefix", "scope", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    verbose_name = "API token"


@admin.register(User)
class UserAdmin(RoleAdmin[User], DjangoUserAdmin):  # type: ignore[type-arg]
    view_roles = ADMINS
    edit_roles = ADMINS
    delete_roles = ADMINS
    list_display = ("username", "email", "role", "is_staff", "is_active", "last_login")
    list_filter = ("role", "is_staff", "is_active", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Role", {"fields": ("role", "is_staff", "is_active", "is_superuser")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = ("make_password_links",)

    def get_inlines(
        self, request: HttpRequest, obj: User | None
    ) -> list[type[InlineModelAdmin[Any, Any]]]:
        # Not on the add form: a new account has no tokens, and the form needs no formset.
        return [ApiTokenInline] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        if not change:
            # Every role works in the admin, as `user_invite` makes them; admins are superusers.
            obj.is_staff = True
            obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: User, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Show the one-time link of an account made without a password (an invitation)."""
        if not obj.has_usable_password():
            self._link_say(request, obj)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Make one-time set-password links (password reset)")
    def make_password_links(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.order_by("username"):
            self._link_say(request, user)

    def _link_say(self, request: HttpRequest, user: User) -> None:
        try:
            assert isinstance(request.user, User)
            link = password_link_create(
                by=request.user, user=user, base_url=request.build_absolute_uri("/")
            )
        except AttritionError as exc:
            self.message_user(request, f"{user.username}: {exc.message}", messages.ERROR)
            return
        self.message_user(request, link.summary(), messages.SUCCESS)
