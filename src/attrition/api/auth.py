"""Who is calling the API: a bearer token or a signed-in session, their scopes, and rate limits.

A request with `Authorization: Bearer <token>` is its token's user: `request.user` is set to them,
so every write is theirs, and no CSRF token is needed (a browser never sends the header by itself).
A token with the read scope may not write: its unsafe requests are refused before any endpoint
runs. Without the header, the session is used, with its CSRF token for writes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth
from ninja.throttling import AnonRateThrottle, BaseThrottle, UserRateThrottle

from attrition.accounts.models import ApiToken, Scope
from attrition.accounts.tokens import token_authenticate
from attrition.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED = "the API token is not valid: it is unknown, revoked or expired, or its user is inactive"


def token_of(request: HttpRequest) -> ApiToken | None:
    """Return the API token a request was authenticated with, or None (a session, or nobody)."""
    token = getattr(request, "auth", None)
    return token if isinstance(token, ApiToken) else None


def require_scope(request: HttpRequest, scope: str) -> None:
    """Refuse (403) a token without `scope`; sessions have every scope their user's role gives."""
    token = token_of(request)
    if token is not None and not token.allows(scope):
        raise Forbidden(
            f"this API token has the {token.scope} scope; this needs a token with the "
            f"{scope} scope",
            details={"scope": scope},
        )


class TokenAuth(HttpBearer):
    """Authenticate `Authorization: Bearer <token>` and act as the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = token_authenticate(key=token)
        if found is None:
            # Refused outright: a bad token never falls back to the session beside it.
            raise AuthenticationError(401, REFUSED)
        request.user = found.user
        request.auth = found  # type: ignore[attr-defined]  # require_scope reads it below
        if request.method not in SAFE_METHODS:
            require_scope(request, Scope.WRITE)
        return found


class BrowserSession(SessionAuth):
    """The signed-in session, with its CSRF token checked on writes. A request that sends no
    session cookie has no session to act for: it goes on unauthenticated (401 where signing in
    is needed), not refused for a missing CSRF token (403), which told an API client that
    forgot its token the wrong thing."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)


def anonymous(request: HttpRequest) -> str:
    """Let anyone through (for endpoints open to readers); returns a marker, as Ninja wants one."""
    return "anonymous"


token_auth = TokenAuth()
session_auth = BrowserSession()
# Endpoints for signed-in users (the API's default) and endpoints open to anonymous readers.
SIGNED_IN = [token_auth, session_auth]
ANYONE = [token_auth, session_auth, anonymous]


class AnonymousThrottle(AnonRateThrottle):
    """At most ATTRITION_API_ANON_RATE requests per anonymous client address."""

    def __init__(self) -> None:
        super().__init__(rate=settings.API_ANON_RATE)

    def allow_request(self, request: HttpRequest) -> bool:
        # Read at every request, so that a changed setting (in tests) takes effect at once.
        self.rate = settings.API_ANON_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return bool(super().allow_request(request))

    def get_cache_key(self, request: HttpRequest) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(UserRateThrottle):
    """At most ATTRITION_API_USER_RATE requests per signed-in user, by session or token alike."""

    def __init__(self) -> None:
        super().__init__(rate=settings.API_USER_RATE)

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_USER_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return bool(super().allow_request(request))

    def get_cache_key(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


THROTTLES: list[BaseThrottle] = [AnonymousThrottle(), UserThrottle()]
