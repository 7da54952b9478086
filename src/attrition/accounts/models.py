"""People who use the instance and the role each one has."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "admin"
    REVIEWER = "reviewer", "reviewer"
    CONTRIBUTOR = "contributor", "contributor"


class User(AbstractUser):
    """An account: a contributor, a reviewer or an admin (readers need none)."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CONTRIBUTOR)

    class Meta:
        db_table = "accounts_user"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"
            ),
        ]

    @property
    def is_reviewer(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN)


class Scope(models.TextChoices):
    READ = "read", "read"
    WRITE = "write", "read and write"


class ApiToken(models.Model):
    """A key to the JSON API for one user: only its SHA-256 is kept, never the key itself."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, to tell it apart.")
    prefix = models.CharField(
        max_length=16, db_index=True, help_text="The key's first characters, shown to identify it."
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, in hex.")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_api_token"
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=Scope.values), name="accounts_api_token_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        """Return whether the token may be used for `scope` (write includes read)."""
        return scope == Scope.READ or self.scope == Scope.WRITE

    def is_live(self, *, now: datetime) -> bool:
        """Return whether the token is neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
