"""The authorization matrix: every role x every action x every surface that offers it.

Each cell performs the action for real through the surface (a page, the JSON API, the admin, or
an export) and asserts whether it took effect: in the database for writes, in the answer for
reads. "own" records were created by the acting user; "other's" by dave, another contributor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from attrition.accounts.models import Role, User
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.services import loss_create, loss_update
from tests.admin_site.conftest import action, admin_url, confirmed, loss_form
from tests.conftest import client_for, user_make
from tests.ledger import Ledger

S = ReviewStatus
ROLES = ("anonymous", "contributor", "reviewer", "admin")


@dataclass
class Cast:
    ledger: Ledger
    users: dict[str, User | None]
    dave: User

    def client(self, role: str) -> Client:
        return client_for(self.users[role])

    def loss(self, *, by: User | None, status: str = S.DRAFT, markings: str = "") -> Loss:
        loss = loss_create(
            conflict=self.ledger.conflict,
            side=self.ledger.afghan,
            model=self.ledger.t62,
            fates=["destroyed"],
            status=status,
            markings=markings,
            by=by,
        )
        return loss

    def own(self, role: str, status: str = S.DRAFT) -> Loss:
        """Return a loss the acting role created (a reader owns nothing: dave's, then)."""
        return self.loss(by=self.users[role] or self.dave, status=status)

    def others(self, status: str = S.SUBMITTED) -> Loss:
        return self.loss(by=self.dave, status=status)


@pytest.fixture
def cast(ledger: Ledger) -> Cast:
    users: dict[str, User | None] = {
        "anonymous": None,
        "contributor": user_make("charlie", role=Role.CONTRIBUTOR),
        "reviewer": user_make("bob", role=Role.REVIEWER),
        "admin": user_make("alice", role=Role.ADMIN, is_superuser=True),
    }
    return Cast(ledger, users, user_make("dave", role=Role.CONTRIBUTOR))


def api(client: Client, method: str, path: str, body: Any = None) -> Any:
    send = getattr(client, method)
    if body is None:
        return send(path)
    return send(path, data=json.dumps(body), content_type="application/json")


def status_of(loss: Loss) -> str:
    return Loss.objects.get(pk=loss.pk).status


# --- each cell: perform the action through a surface, return whether it took effect ----------


def view_draft(cast: Cast, role: str, surface: str, *, own: bool) -> bool:
    draft = cast.own(role) if own else cast.others(S.DRAFT)
    client = cast.client(role)
    if surface == "page":
        return client.get(reverse("review:loss", args=[draft.pk])).status_code == 200
    if surface == "api":
        return api(client, "get", f"/api/v1/losses/{draft.pk}").status_code == 200
    if surface == "admin":
        return client.get(admin_url(Loss, "change", draft.pk)).status_code == 200
    response = client.get(reverse("review:export", args=["json"]))
    if response.status_code != 200:
        return False
    rows = json.loads(b"".join(response.streaming_content))
    return draft.pk in {row["id"] for row in rows}


def create(cast: Cast, role: str, surface: str) -> bool:
    client = cast.client(role)
    before = Loss.objects.count()
    if surface == "api":
        body = {
            "conflict": cast.ledger.conflict.slug,
            "side": cast.ledger.afghan.pk,
            "model": cast.ledger.t62.pk,
            "fates": ["captured"],
        }
        api(client, "post", "/api/v1/losses", body)
    else:
        client.post(admin_url(Loss, "add"), loss_form(cast.ledger))
    return Loss.objects.count() == before + 1


def edit(cast: Cast, role: str, surface: str, *, own: bool) -> bool:
    loss = cast.own(role, S.SUBMITTED) if own else cast.others()
    client = cast.client(role)
    if surface == "api":
        api(
            client,
            "patch",
            f"/api/v1/losses/{loss.pk}",
            {"revision": loss.revision, "markings": "edited"},
        )
    elif surface == "admin":
        client.post(
            admin_url(Loss, "change", loss.pk), loss_form(cast.ledger, loss, markings="edited")
        )
    else:  # the review page's revert is an edit too
        loss_update(loss=loss, markings="to be reverted", by=loss.created_by)
        loss.refresh_from_db()
        client.post(
            reverse("review:revert", args=[loss.pk]), {"version": 1, "revision": loss.revision}
        )
        return Loss.objects.get(pk=loss.pk).markings == ""
    return Loss.objects.get(pk=loss.pk).markings == "edited"


def review(cast: Cast, role: str, surface: str, *, act: str, loss: Loss, reason: str = "") -> None:
    client = cast.client(role)
    if surface == "page":
        client.post(reverse("review:act", args=[loss.pk]), {"action": act, "reason": reason})
    elif surface == "api":
        api(client, "post", f"/api/v1/losses/{loss.pk}/review", {"action": act, "reason": reason})
    else:
        name = {"verify": "mark_verified"}.get(act, act)
        payload = confirmed(name, loss, reason=reason) if reason else action(name, loss)
        client.post(admin_url(Loss, "changelist"), payload)


def submit_own(cast: Cast, role: str, surface: str) -> bool:
    loss = cast.own(role)
    review(cast, role, surface, act="submit", loss=loss)
    return status_of(loss) == S.SUBMITTED


def verify(cast: Cast, role: str, surface: str, *, own: bool) -> bool:
    loss = cast.own(role, S.SUBMITTED) if own else cast.others()
    review(cast, role, surface, act="verify", loss=loss)
    return status_of(loss) == S.VERIFIED


def reject(cast: Cast, role: str, surface: str) -> bool:
    loss = cast.others()
    review(cast, role, surface, act="reject", loss=loss, reason="not a T-62")
    return status_of(loss) == S.REJECTED


def merge(cast: Cast, role: str, surface: str) -> bool:
    kept, dup = cast.others(), cast.others()
    client = cast.client(role)
    if surface == "page":
        client.post(reverse("review:merge", args=[dup.pk]), {"into": kept.pk})
    elif surface == "api":
        api(client, "post", f"/api/v1/losses/{dup.pk}/merge", {"into": kept.pk})
    else:
        client.post(admin_url(Loss, "changelist"), confirmed("merge", kept, dup, reason="same"))
    return status_of(dup) == S.MERGED


def export_unpublished(cast: Cast, role: str, surface: str) -> bool:
    return view_draft(cast, role, "export", own=False)


def manage_users(cast: Cast, role: str, surface: str) -> bool:
    client = cast.client(role)
    client.post(
        admin_url(User, "add"),
        {
            "username": "eve",
            "email": "eve@example.org",
            "role": Role.CONTRIBUTOR,
            "usable_password": "true",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    return User.objects.filter(username="eve").exists()


Cell = Callable[[Cast, str, str], bool]
A, C, R, D = "anonymous", "contributor", "reviewer", "admin"
# action: (how, surfaces, roles allowed)
MATRIX: dict[str, tuple[Cell, tuple[str, ...], frozenset[str]]] = {
    "view own draft": (
        lambda c, r, s: view_draft(c, r, s, own=True),
        ("page", "api", "admin"),
        frozenset({C, R, D}),
    ),
    "view other's draft": (
        lambda c, r, s: view_draft(c, r, s, own=False),
        ("page", "api", "admin"),
        frozenset({R, D}),
    ),
    "create": (create, ("api", "admin"), frozenset({C, R, D})),
    "edit own": (
        lambda c, r, s: edit(c, r, s, own=True),
        ("page", "api", "admin"),
        frozenset({C, R, D}),
    ),
    "edit other's": (
        lambda c, r, s: edit(c, r, s, own=False),
        ("page", "api", "admin"),
        frozenset({R, D}),
    ),
    "submit": (submit_own, ("page", "api", "admin"), frozenset({C, R, D})),
    "verify own": (
        lambda c, r, s: verify(c, r, s, own=True),
        ("page", "api", "admin"),
        frozenset(),
    ),
    "verify other's": (
        lambda c, r, s: verify(c, r, s, own=False),
        ("page", "api", "admin"),
        frozenset({R, D}),
    ),
    "reject": (reject, ("page", "api", "admin"), frozenset({R, D})),
    "merge": (merge, ("page", "api", "admin"), frozenset({R, D})),
    "export unpublished": (export_unpublished, ("export",), frozenset({R, D})),
    "manage users": (manage_users, ("admin",), frozenset({D})),
}
CELLS = [
    (name, surface, role)
    for name, (_, surfaces, _) in MATRIX.items()
    for surface in surfaces
    for role in ROLES
]


@pytest.mark.parametrize(("name", "surface", "role"), CELLS)
def test_the_authorization_matrix(cast: Cast, name: str, surface: str, role: str) -> None:
    how, _, allowed = MATRIX[name]

    took_effect = how(cast, role, surface)

    expected = role in allowed
    verb = "may" if expected else "may not"
    assert took_effect == expected, f"a {role} {verb} {name} through the {surface}"
