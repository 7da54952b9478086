"""Writes on accounts: creating the people who run the instance, and their set-password links."""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from attrition.accounts.models import Role, User
from attrition.admin_base.roles import role_of
from attrition.errors import Forbidden, InvalidInput

log = logging.getLogger(__name__)
NO_MAIL = "django.core.mail.backends.dummy.EmailBackend"

PASSWORD_BYTES = 15  # 20 URL-safe characters: long enough that no validator objects


def password_generate() -> str:
    """Return a new random password for a one-time handover."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _identity_check(username: str, email: str) -> tuple[str, str]:
    """Return the username and email, stripped, or refuse them as InvalidInput."""
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
    return username, email


def admin_create(*, username: str, email: str = "") -> tuple[User, str]:
    """Create an admin (staff, superuser) with a generated password; return it and the password."""
    username, email = _identity_check(username, email)
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


def admin_require(by: User | None) -> None:
    """Refuse unless `by` is an active admin; None is the instance's operator (the command line)."""
    if by is not None and role_of(by) != Role.ADMIN:
        raise Forbidden("only admins manage accounts")


def user_invite(*, by: User | None, username: str, role: str, email: str = "") -> User:
    """Create an account with a role and no password yet (it is set through a link); return it."""
    admin_require(by)
    if role not in Role.values:
        raise InvalidInput(f"role {role!r} is not one of: {', '.join(Role.values)}")
    username, email = _identity_check(username, email)
    try:
        with transaction.atomic():
            # Every role works in the admin, so every account is staff; admins are superusers.
            user = User.objects.create_user(
                username=username,
                email=email,
                password=None,
                role=role,
                is_staff=True,
                is_superuser=role == Role.ADMIN,
            )
    except IntegrityError:
        raise InvalidInput(
            f"a user named {username!r} already exists: choose another username"
        ) from None
    return user


@dataclass(frozen=True)
class PasswordLink:
    """A one-time link that sets a user's password, and whether it was also mailed to them."""

    user: User
    url: str
    emailed: bool
    mail_error: str = ""

    def summary(self) -> str:
        """Return what the admin who made the link is told."""
        text = f"One-time set-password link for {self.user.username}: {self.url}"
        if self.emailed:
            return f"{text} (also mailed to {self.user.email})"
        if self.mail_error:
            return f"{text} (mailing it failed: {self.mail_error}; send it yourself)"
        return f"{text} (send it to them yourself)"


def password_link_create(*, by: User | None, user: User, base_url: str) -> PasswordLink:
    """Return a one-time set-password link for `user` under `base_url`; mail it if mail is set up.

    The link stops working once the password is set (the token covers the password hash), after
    PASSWORD_RESET_TIMEOUT, or when the user signs in. The current password keeps working until
    then: to shut someone out, make them inactive.
    """
    admin_require(by)
    if not user.is_active:
        raise InvalidInput(f"{user.username} is not active: make the account active first")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("account:password_set", kwargs={"uidb64": uid, "token": token})
    url = base_url.rstrip("/") + path
    if not user.email or settings.EMAIL_BACKEND == NO_MAIL:
        return PasswordLink(user=user, url=url, emailed=False)
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    try:
        send_mail(
            subject=f"{settings.SITE_NAME}: set your password",
            message=(
                f"Set the password of your account {user.username!r} on {settings.SITE_NAME} "
                f"with this link, within {days} day(s); it works once:\n\n{url}\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not mail the set-password link of %s: %s", user.username, exc)
        return PasswordLink(user=user, url=url, emailed=False, mail_error=str(exc))
    return PasswordLink(user=user, url=url, emailed=True)


def login_unlock(*, by: User | None, username: str) -> int:
    """Lift the login lockout of a username (from every address); return the attempts cleared."""
    from axes.utils import reset

    admin_require(by)
    return int(reset(username=username.strip()))
