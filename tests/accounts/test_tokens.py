"""API tokens as services: made once, kept only hashed, refused once revoked or expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from attrition.accounts.models import ApiToken, User
from attrition.accounts.tokens import token_authenticate, token_create, token_revoke
from attrition.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def test_it_authenticates_a_new_token_as_its_user(contributor: User) -> None:
    token, key = token_create(user=contributor, name="scraper", scope="write")
    assert key.startswith("atr_")
    assert token.prefix == key[:12]
    found = token_authenticate(key=key)
    assert found == token
    assert found.user == contributor
    assert found.allows("read")
    assert found.allows("write")
    assert found.last_used_at is not None


def test_it_keeps_only_a_hash_of_the_key(contributor: User) -> None:
    _, key = token_create(user=contributor, name="scraper")
    secret = key[12:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_api_token")
        rows = cursor.fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert secret not in stored
    assert key not in stored


def test_it_refuses_unknown_and_malformed_keys(contributor: User) -> None:
    _, key = token_create(user=contributor, name="scraper")
    assert token_authenticate(key=key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert token_authenticate(key="") is None
    assert token_authenticate(key="atr_") is None
    assert token_authenticate(key=key[12:]) is None


def test_it_refuses_a_revoked_token_and_keeps_it_listed(contributor: User) -> None:
    token, key = token_create(user=contributor, name="scraper")
    token_revoke(user=contributor, token_id=token.pk)
    assert token_authenticate(key=key) is None
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_refuses_an_expired_token(contributor: User) -> None:
    token, key = token_create(user=contributor, name="nightly", expires_in_days=1)
    assert token_authenticate(key=key) == token
    later = timezone.now() + timedelta(days=1, seconds=1)
    assert token_authenticate(key=key, now=later) is None


def test_it_refuses_the_token_of_an_inactive_user(contributor: User) -> None:
    _, key = token_create(user=contributor, name="scraper")
    User.objects.filter(pk=contributor.pk).update(is_active=False)
    assert token_authenticate(key=key) is None


def test_it_lets_people_revoke_only_their_own_tokens(contributor: User, reviewer: User) -> None:
    token, key = token_create(user=contributor, name="scraper")
    with pytest.raises(NotFound):
        token_revoke(user=reviewer, token_id=token.pk)
    assert token_authenticate(key=key) == token


@pytest.mark.parametrize(
    "kwargs",
    [{"name": " "}, {"name": "x" * 101}, {"scope": "admin"}, {"expires_in_days": 0}],
)
def test_it_refuses_bad_tokens(contributor: User, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        token_create(user=contributor, **{"name": "scraper", **kwargs})  # type: ignore[arg-type]
    assert not ApiToken.objects.exists()
