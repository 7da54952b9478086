"""Writes of claimed figures: record one, with its scope checked as a counting rule, versioned.

Claims move through review with attrition.review.workflow.review_transition, like losses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from attrition import history
from attrition.catalog.models import Conflict
from attrition.claims.models import Claim
from attrition.errors import Forbidden, InvalidInput
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.tally import TallyRule, tally_count


def claim_create(
    *,
    conflict: Conflict,
    claimant: str,
    claimed_on: dt.date,
    scope: str,
    number: int,
    by: Any,
    kind: str = Claim.Kind.EXACT,
    number_high: int | None = None,
    scope_rule: Any = None,
    source_url: str = "",
    quote: str = "",
    status: str = ReviewStatus.DRAFT,
    via: str = "",
) -> Claim:
    """Record a claimed figure (draft or submitted) and its first version."""
    if not getattr(by, "is_authenticated", False):
        raise Forbidden("sign in to record a claim")
    if status not in (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED):
        raise InvalidInput("a new claim is a draft or submitted; reviewers verify it")
    if kind not in Claim.Kind.values:
        raise InvalidInput(f"kind must be one of {', '.join(Claim.Kind.values)}")
    if number < 0 or (number_high is not None and number_high < 0):
        raise InvalidInput("claimed numbers are 0 or more")
    if (kind == Claim.Kind.RANGE) != (number_high is not None):
        raise InvalidInput("a range claim, and only a range claim, has number_high")
    if number_high is not None and number_high < number:
        raise InvalidInput("number_high must be at least number")
    if not claimant.strip() or not scope.strip():
        raise InvalidInput("a claim needs a claimant and a scope in words")
    if scope_rule is not None:
        rule = TallyRule.parse(scope_rule)
        tally_count(conflict=conflict, rule=rule)  # raises on unknown sides or categories
        scope_rule = rule.model_dump(mode="json")
    with transaction.atomic():
        claim = Claim.objects.create(
            conflict=conflict,
            claimant=claimant.strip(),
            claimed_on=claimed_on,
            scope=scope.strip(),
            scope_rule=scope_rule,
            kind=kind,
            number=number,
            number_high=number_high,
            source_url=source_url,
            quote=quote,
            status=status,
            created_by=by,
        )
        history.record_version(claim, by=by, kind=ChangeKind.CREATE, via=via)
    return claim
