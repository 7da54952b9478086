"""The review tests use the admin tests' world: one record of every kind, made by charlie."""

from tests.admin_site.conftest import world  # noqa: F401
