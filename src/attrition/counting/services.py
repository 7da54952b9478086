"""Writes of saved tallies: create and edit, by reviewers and admins only, each one versioned."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from attrition import history
from attrition.admin_base.roles import REVIEWERS, role_of
from attrition.catalog.models import Conflict
from attrition.errors import Forbidden, InvalidInput
from attrition.history import ChangeKind
from attrition.losses.models import Tally
from attrition.losses.tally import TallyRule, tally_count

TALLY_FIELDS = ("name", "description", "rule", "is_public")


def _may_edit(by: Any) -> None:
    if role_of(by) not in REVIEWERS:
        raise Forbidden("only reviewers and admins may save or change tallies")


def _rule_checked(conflict: Conflict, raw: Any) -> dict[str, Any]:
    rule = TallyRule.parse(raw)
    tally_count(conflict=conflict, rule=rule)  # raises on unknown sides or categories
    return rule.model_dump(mode="json")


def tally_create(
    *,
    conflict: Conflict,
    name: str,
    rule: Any,
    by: Any,
    slug: str = "",
    description: str = "",
    is_public: bool = True,
    via: str = "",
    reason: str = "",
) -> Tally:
    """Save a named counting rule for a conflict and record its first version."""
    _may_edit(by)
    if not name.strip():
        raise InvalidInput("a tally needs a name")
    slug = slug or slugify(name)[:120]
    try:
        with transaction.atomic():
            tally = Tally.objects.create(
                conflict=conflict,
                slug=slug,
                name=name.strip(),
                description=description,
                rule=_rule_checked(conflict, rule),
                is_public=is_public,
                created_by=by,
            )
            history.record_version(tally, by=by, kind=ChangeKind.CREATE, via=via, reason=reason)
    except IntegrityError:
        raise InvalidInput(f"{conflict.slug} already has a tally {slug!r}") from None
    return tally


def tally_update(*, tally: Tally, by: Any, via: str = "", reason: str = "", **fields: Any) -> Tally:
    """Change a saved tally's name, description, rule or visibility; record the new version.

    Permalinks cited before the change keep their number: they count with the rule as it was.
    """
    _may_edit(by)
    unknown = sorted(set(fields) - set(TALLY_FIELDS))
    if unknown:
        raise InvalidInput(f"a tally has no editable field(s) {', '.join(unknown)}")
    if tally.deleted_at is not None:
        raise InvalidInput("this tally is deleted: restore it first")
    if "rule" in fields:
        fields["rule"] = _rule_checked(tally.conflict, fields["rule"])
    if "name" in fields and not str(fields["name"]).strip():
        raise InvalidInput("a tally needs a name")
    with transaction.atomic():
        for key, value in fields.items():
            setattr(tally, key, value)
        tally.save()
        history.record_version(tally, by=by, kind=ChangeKind.UPDATE, via=via, reason=reason)
    return tally
