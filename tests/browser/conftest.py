"""Headless Chromium (Debian's package, never a downloaded browser) driven by Playwright,
against Django's live test server, signed in as a member of the named cast."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# beside it are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")


@pytest.fixture
def page_as(browser: Any, live_server: Any) -> Iterator[Callable[[Any], Any]]:
    """Return a function that opens a new page signed in as a user (None: anonymous)."""
    contexts: list[Any] = []

    def open_page(user: Any) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies["sessionid"]
            context.add_cookies(
                [{"name": "sessionid", "value": cookie.value, "url": live_server.url}]
            )
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
