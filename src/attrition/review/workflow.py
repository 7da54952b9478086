"""The review workflow: who may move a record from one review status to another, and the move.

draft -> submitted -> verified | rejected (with a reason) | needs changes (back to its author,
with a comment) ; merged (a loss, into another) ; admins reopen verified and rejected records.
A record is never verified by the person who created it or last edited it (four eyes), whatever
their role. Every transition is a version of the record: who, when, from, to and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import TextChoices

from attrition import history
from attrition.accounts.models import Role
from attrition.admin_base.roles import role_of
from attrition.errors import Forbidden, InvalidInput, StaleEdit
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus

S = ReviewStatus
REVIEWERS = frozenset({Role.ADMIN, Role.REVIEWER})
# Version kinds that make their author an author of the record (four eyes).
AUTHORING = (ChangeKind.CREATE, ChangeKind.UPDATE, ChangeKind.REVERT, ChangeKind.IMPORT)


class Action(TextChoices):
    SUBMIT = "submit", "Submit for review"
    WITHDRAW = "withdraw", "Withdraw to draft"
    VERIFY = "verify", "Verify"
    REJECT = "reject", "Reject"
    NEEDS_CHANGES = "needs_changes", "Needs changes"
    REOPEN = "reopen", "Reopen"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    reason_required: bool
    # Who may: "author" (the record's creator), "reviewer" (reviewers and admins), "admin".
    who: frozenset[str]
    four_eyes: bool = False


RULES: dict[str, Rule] = {
    Action.SUBMIT: Rule(
        frozenset({S.DRAFT, S.NEEDS_CHANGES}), S.SUBMITTED, False, frozenset({"author", "reviewer"})
    ),
    Action.WITHDRAW: Rule(frozenset({S.SUBMITTED}), S.DRAFT, False, frozenset({"author", "admin"})),
    Action.VERIFY: Rule(
        frozenset({S.SUBMITTED}), S.VERIFIED, False, frozenset({"reviewer"}), four_eyes=True
    ),
    Action.REJECT: Rule(frozenset({S.SUBMITTED}), S.REJECTED, True, frozenset({"reviewer"})),
    Action.NEEDS_CHANGES: Rule(
        frozenset({S.SUBMITTED}), S.NEEDS_CHANGES, True, frozenset({"reviewer"})
    ),
    Action.REOPEN: Rule(
        frozenset({S.VERIFIED, S.REJECTED}), S.SUBMITTED, True, frozenset({"admin"})
    ),
}

# Statuses in which the author of a record (a contributor) may still edit it.
AUTHOR_EDITABLE = frozenset({S.DRAFT, S.SUBMITTED, S.NEEDS_CHANGES})


def status_field(model: type[models.Model]) -> str:
    """Return the name of the review-status field of a reviewable model."""
    for field in model._meta.concrete_fields:
        if field.name in ("review_status", "status"):
            values = {c[0] for c in field.choices or []}
            if set(S.values) <= values:
                return field.name
    raise LookupError(f"{model.__name__} has no review status")


def status_of(record: models.Model) -> str:
    """Return the review status of a record."""
    return str(getattr(record, status_field(type(record))))


def authors_of(record: models.Model) -> set[int]:
    """Return the ids of the users who created or last edited a record (the four-eyes set)."""
    ids: set[Any] = {getattr(record, "created_by_id", None), getattr(record, "updated_by_id", None)}
    versions = history.versions_of(type(record))._default_manager
    last_edit = (
        versions.filter(record_id=record.pk, change_kind__in=AUTHORING)
        .order_by("-version")
        .values_list("changed_by_id", flat=True)
        .first()
    )
    ids.add(last_edit)
    return {i for i in ids if i is not None}


def is_creator(user: Any, record: models.Model) -> bool:
    """Return whether `user` created `record`."""
    return user is not None and getattr(record, "created_by_id", None) == getattr(user, "pk", -1)


def refusal(user: Any, record: models.Model, action: str) -> str | None:
    """Return why `user` may not take `action` on `record` now, or None if they may."""
    rule = RULES.get(action)
    if rule is None:
        return f"{action!r} is not a review action: use one of {', '.join(Action.values)}"
    role = role_of(user)
    if role is None:
        return "sign in with an editor's account to review records"
    if getattr(record, "deleted_at", None) is not None:
        return f"{record} is deleted: an admin restores it first"
    current = status_of(record)
    if current not in rule.sources:
        return (
            f"{record} is {S(current).label}: {Action(action).label.lower()} applies to "
            f"{' or '.join(sorted(S(s).label for s in rule.sources))} records"
        )
    allowed = (
        ("admin" in rule.who and role == Role.ADMIN)
        or ("reviewer" in rule.who and role in REVIEWERS)
        or ("author" in rule.who and is_creator(user, record))
    )
    if not allowed:
        who = {"author": "its author", "reviewer": "reviewers", "admin": "admins"}
        return f"only {' or '.join(who[w] for w in sorted(rule.who))} may do that"
    if rule.four_eyes and user.pk in authors_of(record):
        return (
            f"you created or last edited {record}, and nobody verifies their own work "
            "(four-eyes rule): another reviewer has to verify it"
        )
    return None


def actions_for(user: Any, record: models.Model) -> list[str]:
    """Return the review actions `user` may take on `record` now."""
    return [a for a in Action.values if refusal(user, record, a) is None]


def may_edit(user: Any, record: models.Model) -> bool:
    """Return whether `user` may edit `record`'s content (not its status)."""
    role = role_of(user)
    if role is None or getattr(record, "deleted_at", None) is not None:
        return False
    status = status_of(record)
    if status == S.MERGED:
        return False
    if role in REVIEWERS:
        return True
    return is_creator(user, record) and status in AUTHOR_EDITABLE


def review_transition(
    *,
    record: models.Model,
    action: str,
    by: Any,
    reason: str = "",
    revision: int | None = None,
    via: str = "",
) -> models.Model:
    """Take a review action on a record and record it as a version; refuse what is not allowed."""
    rule = RULES.get(action)
    reason = reason.strip()
    if rule is not None and rule.reason_required and not reason:
        word = "a comment for the author" if action == Action.NEEDS_CHANGES else "a reason"
        raise InvalidInput(f"{Action(action).label.lower()} needs {word}")
    model = type(record)
    field = status_field(model)
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=record.pk)
        has_revision = hasattr(current, "revision")
        if revision is not None and has_revision and current.revision != revision:  # type: ignore[attr-defined]
            raise StaleEdit(
                f"{current} changed since you opened it (your revision {revision}, now "
                f"{current.revision}): reload it and look again",  # type: ignore[attr-defined]
                details={"your_revision": revision, "current_revision": current.revision},  # type: ignore[attr-defined]
            )
        why = refusal(by, current, action)
        if why is not None:
            raise Forbidden(why, details={"action": action, "status": status_of(current)})
        assert rule is not None  # refusal() names unknown actions
        setattr(current, field, rule.target)
        updates = [field]
        if hasattr(current, "status_reason"):
            setattr(current, "status_reason", reason)  # noqa: B010
            updates.append("status_reason")
        if has_revision:
            current.revision += 1  # type: ignore[attr-defined]
            updates.append("revision")
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            updates.append("updated_at")
        current.save(update_fields=updates)
        extra = _version_extra(current)
        history.record_version(
            current,
            by=by,
            kind=ChangeKind.STATUS,
            reason=reason or Action(action).label,
            via=via,
            extra=extra,
        )
    return current


def review_transition_many(
    *, records: Iterable[models.Model], action: str, by: Any, reason: str = "", via: str = ""
) -> tuple[list[models.Model], list[tuple[models.Model, str]]]:
    """Take an action on several records; return those moved and (record, why) for the rest."""
    done: list[models.Model] = []
    refused: list[tuple[models.Model, str]] = []
    for record in records:
        try:
            done.append(
                review_transition(record=record, action=action, by=by, reason=reason, via=via)
            )
        except (Forbidden, InvalidInput, StaleEdit) as exc:
            refused.append((record, exc.message))
    return done, refused


def _version_extra(record: models.Model) -> dict[str, Any] | None:
    """Return the extra version values a model keeps beside its fields (a loss's tag names)."""
    version_model = history.versions_of(type(record))
    if any(f.name == "tag_names" for f in version_model._meta.concrete_fields):
        return {"tag_names": sorted(record.tags.values_list("name", flat=True))}  # type: ignore[attr-defined]
    return None
