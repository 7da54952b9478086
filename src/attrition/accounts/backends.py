"""The lockout backend: django-axes' check, for the sign-ins that come through a login form."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuse a locked-out sign-in; leave `authenticate()` without a request (shell, CLI) alone.

    Every login page passes its request; a call without one comes from code on the server, which
    django-axes would otherwise refuse with an error.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)  # type: ignore[no-any-return]
