"""API for the caller: who the API takes them for, and with which token."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from attrition.accounts.models import User
from attrition.admin_base.roles import role_of
from attrition.api.auth import ANYONE, token_of

router = Router(tags=["account"])


class TokenOut(Schema):
    name: str
    prefix: str
    scope: str
    expires_at: datetime | None


class MeOut(Schema):
    authenticated: bool
    username: str | None
    role: str | None
    via: str
    token: TokenOut | None


@router.get("", response=MeOut, auth=ANYONE, summary="Who is calling")
def me(request: HttpRequest) -> MeOut:
    """Return the caller: a user (by session or token, with the token's scope) or anonymous."""
    user = request.user
    token = token_of(request)
    if not isinstance(user, User):
        return MeOut(authenticated=False, username=None, role=None, via="anonymous", token=None)
    return MeOut(
        authenticated=True,
        username=user.get_username(),
        role=role_of(user) or user.role,
        via="token" if token else "session",
        token=TokenOut(
            name=token.name, prefix=token.prefix, scope=token.scope, expires_at=token.expires_at
        )
        if token
        else None,
    )
