"""The `attrition users` commands: invite people, make set-password links, lift login lockouts."""

from __future__ import annotations

import click

from attrition.cli_base import CliError, say

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url_default() -> str:
    """Return the public address links start with: the first trusted origin, else the local one."""
    from django.conf import settings

    origins = list(settings.CSRF_TRUSTED_ORIGINS)
    return origins[0] if origins else DEFAULT_BASE_URL


base_url_option = click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Address of the instance that links start with "
    f"[default: the first ATTRITION_CSRF_TRUSTED_ORIGINS, else {DEFAULT_BASE_URL}].",
)


@click.group()
def users() -> None:
    """Invite people, give them set-password links, and lift login lockouts."""


@users.command()
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["admin", "reviewer", "contributor"]),
    default="contributor",
    show_default=True,
    help="What the account may do.",
)
@click.option(
    "--email", default="", help="Email address (the link is mailed there if mail is set)."
)
@base_url_option
def invite(username: str, role: str, email: str, base_url: str | None) -> None:
    """Create an account with a role and print its one-time set-password link."""
    from attrition.accounts.services import password_link_create, user_invite

    user = user_invite(by=None, username=username, role=role, email=email)
    say(f"created the {role} account {user.username!r}")
    link = password_link_create(by=None, user=user, base_url=base_url or base_url_default())
    say(link.summary())


@users.command("reset-password")
@click.argument("username")
@base_url_option
def reset_password(username: str, base_url: str | None) -> None:
    """Print a one-time link that sets a new password for USERNAME."""
    from attrition.accounts.models import User
    from attrition.accounts.services import password_link_create

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CliError(f"no user {username!r}")
    link = password_link_create(by=None, user=user, base_url=base_url or base_url_default())
    say(link.summary())


@users.command()
@click.argument("username")
def unlock(username: str) -> None:
    """Lift the login lockout of USERNAME (after too many failed sign-ins)."""
    from attrition.accounts.services import login_unlock

    cleared = login_unlock(by=None, username=username)
    if cleared:
        say(f"{username!r} may sign in again ({cleared} locked address(es) cleared)")
    else:
        say(f"{username!r} was not locked out")
