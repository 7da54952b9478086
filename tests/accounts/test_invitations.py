"""Invitations and password resets: admins make one-time set-password links, nobody else can."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate
from django.core import mail
from django.test import Client

from attrition.accounts.models import Role, User
from attrition.accounts.services import password_link_create, user_invite
from attrition.cli import cli
from attrition.errors import Forbidden

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
LINK = re.compile(r"(http://testserver/account/set-password/[^ /]+/[^ /]+/)")


def set_password(link: str, password: str) -> tuple[Any, Any]:
    """Follow a set-password link and submit a password; return both answers."""
    client = Client()
    form = client.get(link, follow=True)
    if not form.context or not form.context.get("validlink"):
        return form, None
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
    )
    return form, done


def test_it_invites_with_a_link_that_sets_the_password_once(admin_user: User) -> None:
    dora = user_invite(by=admin_user, username="dora", role=Role.REVIEWER, email="d@example.org")
    assert (dora.role, dora.is_staff, dora.is_superuser) == ("reviewer", True, False)
    assert not dora.has_usable_password()
    link = password_link_create(by=admin_user, user=dora, base_url=BASE)

    _, done = set_password(link.url, "a long new passphrase 1")
    assert done.status_code == 302
    assert done["Location"] == "/account/set-password/done/"
    assert authenticate(username="dora", password="a long new passphrase 1") is not None

    again, refused = set_password(link.url, "another passphrase 22")
    assert refused is None
    assert b"does not work any more" in again.content
    assert authenticate(username="dora", password="another passphrase 22") is None


def test_it_mails_the_link_when_the_user_has_an_address(admin_user: User) -> None:
    dora = user_invite(by=admin_user, username="dora", role=Role.CONTRIBUTOR, email="d@example.org")
    link = password_link_create(by=admin_user, user=dora, base_url=BASE)
    assert link.emailed
    [message] = mail.outbox
    assert message.to == ["d@example.org"]
    assert link.url in message.body


def test_it_shows_the_link_only_when_no_mail_is_set_up(admin_user: User, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    dora = user_invite(by=admin_user, username="dora", role=Role.CONTRIBUTOR, email="d@example.org")
    link = password_link_create(by=admin_user, user=dora, base_url=BASE)
    assert not link.emailed
    assert "send it to them yourself" in link.summary()


def test_it_resets_a_password_with_the_same_kind_of_link(
    admin_user: User, contributor: User
) -> None:
    link = password_link_create(by=admin_user, user=contributor, base_url=BASE)
    _, done = set_password(link.url, "a long new passphrase 1")
    assert done.status_code == 302
    assert authenticate(username="charlie", password="a long new passphrase 1") is not None
    assert authenticate(username="charlie", password="charlie-password") is None


@pytest.mark.parametrize("who", ["reviewer", "contributor"])
def test_only_admins_invite_and_reset(who: str, request: pytest.FixtureRequest) -> None:
    someone: User = request.getfixturevalue(who)
    with pytest.raises(Forbidden):
        user_invite(by=someone, username="dora", role=Role.ADMIN)
    with pytest.raises(Forbidden):
        password_link_create(by=someone, user=someone, base_url=BASE)
    assert not User.objects.filter(username="dora").exists()


@pytest.mark.parametrize("who", ["reviewer_client", "contributor_client"])
def test_only_admins_reach_the_user_admin(
    who: str, request: pytest.FixtureRequest, admin_user: User
) -> None:
    client: Client = request.getfixturevalue(who)
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{admin_user.pk}/change/",
        f"/admin/accounts/user/{admin_user.pk}/password/",
    ):
        assert client.get(path).status_code == 403, path
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "eve", "role": "admin", "usable_password": "false"},
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_an_admin_invites_in_the_admin_and_sees_the_link(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "dora", "email": "", "role": "reviewer", "usable_password": "false"},
        follow=True,
    )
    assert response.status_code == 200
    dora = User.objects.get(username="dora")
    assert (dora.role, dora.is_staff, dora.has_usable_password()) == ("reviewer", True, False)
    shown = " ".join(str(m) for m in response.context["messages"])
    match = LINK.search(shown)
    assert match, shown
    _, done = set_password(match.group(1), "a long new passphrase 1")
    assert done.status_code == 302


def test_an_admin_resets_passwords_with_the_admin_action(
    admin_client: Client, contributor: User
) -> None:
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "make_password_links", "_selected_action": [contributor.pk]},
        follow=True,
    )
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "One-time set-password link for charlie" in shown
    assert LINK.search(shown)


def test_the_command_line_invites_and_resets(db: None) -> None:
    runner = CliRunner()
    invited = runner.invoke(
        cli, ["users", "invite", "dora", "--role", "reviewer", "--base-url", BASE]
    )
    assert invited.exit_code == 0, invited.output
    assert "created the reviewer account 'dora'" in invited.output
    match = LINK.search(invited.output)
    assert match, invited.output
    _, done = set_password(match.group(1), "a long new passphrase 1")
    assert done.status_code == 302

    reset = runner.invoke(cli, ["users", "reset-password", "dora", "--base-url", BASE])
    assert reset.exit_code == 0, reset.output
    assert LINK.search(reset.output)
    taken = runner.invoke(cli, ["users", "invite", "dora"])
    assert taken.exit_code == 2
    missing = runner.invoke(cli, ["users", "reset-password", "nobody"])
    assert missing.exit_code == 2
