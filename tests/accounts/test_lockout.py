"""Login lockout: repeated failed sign-ins lock a username out, on the site and in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from django.test import Client

from attrition.accounts.models import User
from attrition.cli import cli

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def low_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


def sign_in(client: Client, path: str, password: str) -> Any:
    return client.post(path, {"username": "charlie", "password": password})


@pytest.mark.parametrize("path", ["/account/login/", "/admin/login/"])
def test_it_locks_a_username_out_after_repeated_failures(contributor: User, path: str) -> None:
    client = Client()
    for _ in range(LIMIT - 1):
        response = sign_in(client, path, "wrong")
        assert response.status_code == 200  # the form again, with its error
    locked = sign_in(client, path, "wrong")
    assert locked.status_code == 429
    assert b"Signing in is locked" in locked.content
    assert b"Too many failed sign-ins for charlie" in locked.content

    right = sign_in(client, path, "charlie-password")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_counts_failures_on_both_login_pages_together(contributor: User) -> None:
    client = Client()
    sign_in(client, "/account/login/", "wrong")
    sign_in(client, "/admin/login/", "wrong")
    assert sign_in(client, "/account/login/", "wrong").status_code == 429


def test_it_forgets_failures_after_a_successful_sign_in(contributor: User) -> None:
    client = Client()
    for _ in range(LIMIT - 1):
        sign_in(client, "/account/login/", "wrong")
    assert sign_in(client, "/account/login/", "charlie-password").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert sign_in(client, "/account/login/", "wrong").status_code == 200


def test_it_locks_one_address_out_only(contributor: User) -> None:
    for _ in range(LIMIT):
        sign_in(Client(REMOTE_ADDR="203.0.113.9"), "/account/login/", "wrong")
    elsewhere = sign_in(Client(REMOTE_ADDR="198.51.100.7"), "/account/login/", "charlie-password")
    assert elsewhere.status_code == 302


def test_an_admin_lifts_a_lockout_from_the_command_line(contributor: User) -> None:
    client = Client()
    for _ in range(LIMIT):
        sign_in(client, "/account/login/", "wrong")
    result = CliRunner().invoke(cli, ["users", "unlock", "charlie"])
    assert result.exit_code == 0, result.output
    assert "may sign in again" in result.output
    assert sign_in(client, "/account/login/", "charlie-password").status_code == 302
