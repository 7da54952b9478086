"""Writes on accounts: creating the people who run the instance."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from attrition.accounts.models import Role, User
from attrition.errors import InvalidInput

PASSWORD_BYTES = 15  # 20 URL-safe characters: long enough that no validator objects


def password_generate() -> str:
    """Return a new random password for a one-time handover."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def admin_create(*, username: str, email: str = "") -> tuple[User, str]:
    """Create an admin (staff, superuser) with a generated password; return it and the password."""
    username = username.strip()
    email = email.strip()
    if not username:
        raise InvalidInput("the username is empty")
    try:
        User.username_validator(username)
    except ValidationError:
        raise InvalidInput(
            f"username {username!r} is not valid: use letters, digits and @/./+/-/_ only"
        ) from None
    if email:
        try:
            User._meta.get_field("email").run_validators(email)
        except ValidationError:
            raise InvalidInput(f"email address {email!r} is not valid") from None
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"a user named {username!r} already exists: choose another username")
    password = password_generate()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username,
                email=email,
                password=password,
                role=Role.ADMIN,
                is_staff=True,
                is_superuser=True,
            )
    except IntegrityError:
        raise InvalidInput(
            f"a user named {username!r} already exists: choose another username"
        ) from None
    return user, password
