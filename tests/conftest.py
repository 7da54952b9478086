"""Shared test setup: a private data directory, the PostgreSQL marker, and the cast of users.

The cast (after healthchecks' hc/test.py): alice is an admin, bob a reviewer, charlie a
contributor; `anon_client` is a reader who is not logged in.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import django
import pytest

# A private data directory before Django reads its settings, so that tests never write to ./data.
# (DJANGO_SETTINGS_MODULE is deliberately not in pyproject: pytest-django would then load the
# settings before this file runs.)
if not os.environ.get("ATTRITION_DATA_DIR"):
    _own_data_dir = tempfile.mkdtemp(prefix="attrition-tests-")
    atexit.register(shutil.rmtree, _own_data_dir, ignore_errors=True)
    os.environ["ATTRITION_DATA_DIR"] = _own_data_dir
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attrition.settings")
# Set Django up now, so that conftests and test modules below may import models at the top.
django.setup()
# Tests make many accounts: a fast hash keeps each one cheap (Django's advice for test suites).
from django.conf import settings as _settings  # noqa: E402

_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if TYPE_CHECKING:
    from django.test import Client

    from attrition.accounts.models import User
    from tests.ledger import Ledger
    from tests.loopback import Loopback


def on_postgres() -> bool:
    """Return whether the default database is PostgreSQL."""
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Set up the test database as pytest-django does, and let nothing keep it from being dropped.

    A request thread of a live server (the browser tests) can still hold a connection of its own
    when the session ends; on PostgreSQL that makes DROP DATABASE fail. Those connections are
    closed before pytest-django drops the database.
    """
    yield
    if not on_postgres():
        return
    from django.db import connection

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Return headless Chromium (Debian's package), one for the whole session.

    Playwright's sync API runs an event loop in this thread, and a second one cannot start while
    it runs: every browser test shares this one.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `postgres` tests off PostgreSQL, and `browser` tests where Chromium is missing.

    CI installs Chromium, so there a missing browser fails loudly instead of skipping.
    """
    no_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    no_browser = pytest.mark.skip(reason="needs Chromium: apt install chromium")
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres():
            item.add_marker(no_pg)
        if item.get_closest_marker("browser") and not CHROMIUM:
            if os.environ.get("CI"):
                raise pytest.UsageError("CI has no Chromium: .ci/run should have installed it")
            item.add_marker(no_browser)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly how many PostgreSQL tests did not run."""
    skipped = sum(
        1 for report in terminalreporter.stats.get("skipped", []) if "postgres" in report.keywords
    )
    if skipped and not on_postgres():
        terminalreporter.write_sep(
            "!",
            f"SKIPPED {skipped} PostgreSQL tests: set "
            "DATABASE_URL=postgres://user@host:5432/dbname to run them",
            yellow=True,
            bold=True,
        )
    browsers = sum(
        1 for report in terminalreporter.stats.get("skipped", []) if "browser" in report.keywords
    )
    if browsers and not CHROMIUM:
        terminalreporter.write_sep(
            "!", f"SKIPPED {browsers} browser tests: install chromium", yellow=True, bold=True
        )


def user_make(username: str, *, role: str, is_superuser: bool = False) -> User:
    """Create a staff user of the cast with the given role."""
    from attrition.accounts.models import User

    return User.objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password=f"{username}-password",
        role=role,
        is_staff=True,
        is_superuser=is_superuser,
    )


@pytest.fixture(autouse=True)
def _cache_cleared() -> None:
    """Start every test with an empty cache: rate limits and lockouts outlive a rollback."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin_user(db: None) -> User:
    """Return alice, an admin (staff and superuser)."""
    from attrition.accounts.models import Role

    return user_make("alice", role=Role.ADMIN, is_superuser=True)


@pytest.fixture
def reviewer(db: None) -> User:
    """Return bob, a reviewer (staff)."""
    from attrition.accounts.models import Role

    return user_make("bob", role=Role.REVIEWER)


@pytest.fixture
def contributor(db: None) -> User:
    """Return charlie, a contributor (staff, so that the admin is open to him)."""
    from attrition.accounts.models import Role

    return user_make("charlie", role=Role.CONTRIBUTOR)


def client_for(user: User | None) -> Client:
    """Return a test client, logged in as `user` unless it is None."""
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    """Return a client logged in as alice, the admin."""
    return client_for(admin_user)


@pytest.fixture
def reviewer_client(reviewer: User) -> Client:
    """Return a client logged in as bob, the reviewer."""
    return client_for(reviewer)


@pytest.fixture
def contributor_client(contributor: User) -> Client:
    """Return a client logged in as charlie, the contributor."""
    return client_for(contributor)


@pytest.fixture
def anon_client(db: None) -> Client:
    """Return a client for an anonymous reader."""
    return client_for(None)


@pytest.fixture
def ledger(db: None) -> Ledger:
    """Return a small real ledger: a conflict, two sides, two categories, three models."""
    from tests.ledger import ledger_small

    return ledger_small()


# A size limit small enough for tests to exceed cheaply.
TEST_FETCH_MAX_BYTES = 200_000


@pytest.fixture
def media_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Loopback]:
    """Return a real HTTP server on loopback, which captures may fetch from (and only it)."""
    from tests.loopback import loopback_server

    monkeypatch.setenv("ATTRITION_FETCH_ALLOW", "127.0.0.0/8")
    monkeypatch.setenv("ATTRITION_FETCH_MAX_BYTES", str(TEST_FETCH_MAX_BYTES))
    with loopback_server(TEST_FETCH_MAX_BYTES) as server:
        yield server


@pytest.fixture
def capture_storage(settings: Any, tmp_path: Path) -> Path:
    """Point the default storage at a private directory; return it."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
