"""API tokens: made for a user, shown once, kept only as a SHA-256, refused once revoked or expired.

A key is `atr_` and 43 random URL-safe characters from `secrets` (256 bits); its first 12
characters are kept to tell tokens apart, and its SHA-256, which needs no salt or slow hash for a
key this random.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from attrition.accounts.models import ApiToken, Scope, User
from attrition.errors import InvalidInput, NotFound

KEY_START = "atr_"
PREFIX_LENGTH = len(KEY_START) + 8
SECRET_BYTES = 32
# last_used_at is refreshed at most this often, so that reads do not each write a row.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_NAME = 100
MAX_DAYS = 3650


def key_digest(key: str) -> str:
    """Return the SHA-256 of a key in hex, as it is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(
    *, user: User, name: str, scope: str = Scope.READ, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it and its key, which is never available again."""
    name = name.strip()
    if not name:
        raise InvalidInput("give the token a name, to tell it apart later")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the token's name is longer than {MAX_NAME} characters")
    if scope not in Scope.values:
        raise InvalidInput(f"scope {scope!r} is not one of: {', '.join(Scope.values)}")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise InvalidInput(f"a token expires after 1 to {MAX_DAYS} days, or never")
    if not user.is_active:
        raise InvalidInput(f"{user.username} is not an active user")
    key = KEY_START + secrets.token_urlsafe(SECRET_BYTES)
    expires_at = None
    if expires_in_days is not None:
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        scope=scope,
        expires_at=expires_at,
    )
    return token, key


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """Return a user's tokens, the newest first, revoked ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (it is kept, marked revoked); return it."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(f"you have no API token #{token_id}")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(*, key: str, now: datetime | None = None) -> ApiToken | None:
    """Return the live token of an active user that `key` is, or None for any other key."""
    key = key.strip()
    if not key.startswith(KEY_START) or len(key) <= PREFIX_LENGTH:
        return None
    now = now or timezone.now()
    digest = key_digest(key)
    found = None
    for token in ApiToken.objects.select_related("user").filter(prefix=key[:PREFIX_LENGTH]):
        if hmac.compare_digest(token.digest, digest):
            found = token
    if found is None or not found.is_live(now=now) or not found.user.is_active:
        return None
    if found.last_used_at is None or found.last_used_at < now - LAST_USED_EVERY:
        found.last_used_at = now
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found
