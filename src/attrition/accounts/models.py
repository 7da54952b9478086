"""People who use the instance and the role each one has."""

from __future__ import annotations

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
