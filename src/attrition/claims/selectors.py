"""Reads of claimed figures, each shown beside the documented count for the same scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from attrition.catalog.models import Conflict
from attrition.claims.models import Claim
from attrition.errors import InvalidInput
from attrition.losses.choices import ReviewStatus
from attrition.losses.tally import TallyRule, data_version, rule_describe, tally_count


@dataclass
class ClaimBeside:
    """A claim and, when its scope is a rule, what the ledger documents for that scope.

    `documented_then` is the count as the ledger stood at the end of the day of the claim;
    `documented_now` as it stands. Neither includes the claim: a claim is never counted.
    """

    claim: Claim
    figure: str
    rule_text: str
    documented_now: int | None
    documented_then: int | None
    as_of: dt.datetime | None


def claim_figure(claim: Claim) -> str:
    """Return the claimed figure in words: "about 700", "between 50 and 80"."""
    if claim.kind == Claim.Kind.RANGE:
        return f"between {claim.number:,} and {claim.number_high or claim.number:,}"
    return f"{claim.get_kind_display()} {claim.number:,}"


def claims_public(*, conflict: Conflict | None = None) -> QuerySet[Claim]:
    """Return verified, not deleted claims of public conflicts (of one conflict if given)."""
    found = Claim.objects.filter(
        status=ReviewStatus.VERIFIED, deleted_at__isnull=True, conflict__is_public=True
    ).select_related("conflict", "evidence")
    if conflict is not None:
        found = found.filter(conflict=conflict)
    return found.order_by("conflict__name", "-claimed_on", "pk")


def claim_beside(claim: Claim) -> ClaimBeside:
    """Return a claim with the documented counts of its scope then and now."""
    if claim.scope_rule is None:
        return ClaimBeside(claim, claim_figure(claim), "", None, None, None)
    try:
        rule = TallyRule.parse(claim.scope_rule)
        end_of_day = dt.datetime.combine(claim.claimed_on, dt.time.max, tzinfo=dt.UTC)
        as_of = data_version()
        now = tally_count(conflict=claim.conflict, rule=rule, as_of=as_of).total
        then = tally_count(conflict=claim.conflict, rule=rule, as_of=end_of_day).total
    except InvalidInput:
        # A scope naming a side or category since removed: show the claim without a count.
        return ClaimBeside(claim, claim_figure(claim), "", None, None, None)
    return ClaimBeside(claim, claim_figure(claim), rule_describe(rule), now, then, as_of)


def claims_beside(*, conflict: Conflict | None = None) -> list[ClaimBeside]:
    """Return the public claims, each beside the documented count of its scope."""
    return [claim_beside(c) for c in claims_public(conflict=conflict)]
