"""Account pages: who you are, your API tokens, and signing in and out (Django's auth views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from attrition.accounts.forms import TokenForm
from attrition.accounts.models import User
from attrition.accounts.tokens import token_create, token_revoke, tokens_of
from attrition.admin_base.roles import role_of
from attrition.errors import AttritionError


def user_of(request: HttpRequest) -> User:
    """Return the signed-in user of a request that login_required let through."""
    user = request.user
    assert isinstance(user, User)
    return user


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show who is signed in, with which role, and where to go from here."""
    user = user_of(request)
    return render(
        request,
        "accounts/home.html",
        {"account": user, "role": role_of(user) or user.role, "tokens": tokens_of(user)[:5]},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List your API tokens and create one; a new key is shown on this answer only."""
    user = user_of(request)
    form = TokenForm(request.POST or None)
    created = key = None
    if request.method == "POST" and form.is_valid():
        try:
            created, key = token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except AttritionError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "created": created, "key": key, "tokens": tokens_of(user)},
    )


@require_POST
@login_required
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your tokens and go back to the list."""
    try:
        token = token_revoke(user=user_of(request), token_id=pk)
    except AttritionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The token {token.name!r} ({token.prefix}…) is revoked.")
    return redirect("account:tokens")


login = auth_views.LoginView.as_view(
    template_name="accounts/login.html", redirect_authenticated_user=True
)
logout = auth_views.LogoutView.as_view()
password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change.html",
    success_url=reverse_lazy("account:password_changed"),
)
password_changed = auth_views.PasswordChangeDoneView.as_view(
    template_name="accounts/password_changed.html"
)
password_set = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_set.html",
    success_url=reverse_lazy("account:password_set_done"),
)
password_set_done = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_set_done.html"
)
