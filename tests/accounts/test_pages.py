"""The account pages: who you are, your tokens (the key shown once), signing in and out."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from attrition.accounts.models import ApiToken, User
from attrition.accounts.tokens import token_authenticate

pytestmark = pytest.mark.django_db


def test_it_shows_who_you_are(contributor_client: Client) -> None:
    response = contributor_client.get("/account/")
    assert response.status_code == 200
    assert b"charlie" in response.content
    assert b"contributor" in response.content


@pytest.mark.parametrize("path", ["/account/", "/account/tokens/", "/capture/"])
def test_it_sends_readers_to_the_sign_in_page(anon_client: Client, path: str) -> None:
    response = anon_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={path}"


def test_it_links_sign_in_and_account_from_the_nav(
    anon_client: Client, contributor_client: Client
) -> None:
    assert b'href="/account/login/"' in anon_client.get("/").content
    assert b'href="/account/"' in contributor_client.get("/").content


def test_it_shows_a_new_token_once_and_revokes_it(contributor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    page = client.get("/account/tokens/")
    csrf = page.cookies["csrftoken"].value
    created = client.post(
        "/account/tokens/",
        {"name": "scraper", "scope": "write", "csrfmiddlewaretoken": csrf},
    )
    assert created.status_code == 200
    assert created["Cache-Control"].startswith("max-age=0")
    match = re.search(rb'class="token-key">(atr_[A-Za-z0-9_-]+)<', created.content)
    assert match
    key = match.group(1).decode()
    token = token_authenticate(key=key)
    assert token is not None
    assert (token.user, token.scope) == (contributor, "write")

    again = client.get("/account/tokens/")
    assert key.encode() not in again.content
    assert token.prefix.encode() in again.content

    revoked = client.post(
        f"/account/tokens/{token.pk}/revoke", {"csrfmiddlewaretoken": csrf}, follow=True
    )
    assert b"is revoked" in revoked.content
    assert token_authenticate(key=key) is None


def test_it_refuses_a_token_form_without_its_csrf_token(contributor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    response = client.post("/account/tokens/", {"name": "scraper", "scope": "read"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_it_does_not_revoke_someone_elses_token(contributor: User, reviewer_client: Client) -> None:
    token = ApiToken.objects.create(user=contributor, name="x", prefix="atr_x", digest="0" * 64)
    response = reviewer_client.post(f"/account/tokens/{token.pk}/revoke", follow=True)
    assert b"no API token" in response.content
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_signs_in_and_out(contributor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    form = client.get("/account/login/?next=/capture/")
    assert form.status_code == 200
    csrf = form.cookies["csrftoken"].value
    signed_in = client.post(
        "/account/login/",
        {
            "username": "charlie",
            "password": "charlie-password",
            "next": "/capture/",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/capture/"
    csrf = client.cookies["csrftoken"].value
    assert client.get("/account/").status_code == 200
    signed_out = client.post("/account/logout/", {"csrfmiddlewaretoken": csrf})
    assert signed_out.status_code == 302
    assert client.get("/account/").status_code == 302
