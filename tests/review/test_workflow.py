"""The review workflow as a service: every move, who may make it, and what it records."""

from __future__ import annotations

import pytest

from attrition import history
from attrition.accounts.models import User
from attrition.claims.models import Claim
from attrition.errors import Forbidden, InvalidInput, StaleEdit
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_create, loss_delete, loss_update
from attrition.review.workflow import Action, actions_for, may_edit, review_transition
from tests.ledger import Ledger

S = ReviewStatus


def draft_by(ledger: Ledger, user: User) -> Loss:
    return loss_create(
        conflict=ledger.conflict,
        side=ledger.afghan,
        model=ledger.t62,
        fates=["destroyed"],
        status=S.DRAFT,
        by=user,
    )


def test_it_takes_a_loss_from_draft_to_verified_and_records_each_step(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = draft_by(ledger, contributor)

    review_transition(record=loss, action=Action.SUBMIT, by=contributor)
    done = review_transition(record=loss, action=Action.VERIFY, by=reviewer, via="web")

    assert done.status == S.VERIFIED  # type: ignore[attr-defined]
    steps = LossVersion.objects.filter(record=loss).order_by("version")
    assert [(v.change_kind, v.status, v.changed_by) for v in steps] == [
        (ChangeKind.CREATE, S.DRAFT, contributor),
        (ChangeKind.STATUS, S.SUBMITTED, contributor),
        (ChangeKind.STATUS, S.VERIFIED, reviewer),
    ]


@pytest.mark.parametrize("who", ["reviewer", "admin_user"])
def test_nobody_verifies_what_they_created(
    ledger: Ledger, request: pytest.FixtureRequest, who: str
) -> None:
    user = request.getfixturevalue(who)
    loss = draft_by(ledger, user)
    review_transition(record=loss, action=Action.SUBMIT, by=user)

    with pytest.raises(Forbidden, match="four-eyes"):
        review_transition(record=loss, action=Action.VERIFY, by=user)

    loss.refresh_from_db()
    assert loss.status == S.SUBMITTED


def test_nobody_verifies_what_they_last_edited(
    ledger: Ledger, contributor: User, reviewer: User, admin_user: User
) -> None:
    loss = draft_by(ledger, contributor)
    review_transition(record=loss, action=Action.SUBMIT, by=contributor)
    loss_update(loss=loss, markings="212", by=reviewer)

    assert Action.VERIFY not in actions_for(reviewer, loss)
    with pytest.raises(Forbidden, match="four-eyes"):
        review_transition(record=loss, action=Action.VERIFY, by=reviewer)
    review_transition(record=loss, action=Action.VERIFY, by=admin_user)


def test_a_contributor_cannot_verify_reject_or_reopen(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = draft_by(ledger, reviewer)
    review_transition(record=loss, action=Action.SUBMIT, by=reviewer)

    for action in (Action.VERIFY, Action.REJECT, Action.NEEDS_CHANGES):
        with pytest.raises(Forbidden, match="only reviewers"):
            review_transition(record=loss, action=action, by=contributor, reason="no")
    assert actions_for(contributor, loss) == []


def test_needs_changes_sends_a_loss_back_to_its_author_with_the_comment(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = draft_by(ledger, contributor)
    review_transition(record=loss, action=Action.SUBMIT, by=contributor)

    with pytest.raises(InvalidInput, match="needs a comment"):
        review_transition(record=loss, action=Action.NEEDS_CHANGES, by=reviewer, reason=" ")
    back = review_transition(
        record=loss, action=Action.NEEDS_CHANGES, by=reviewer, reason="which photo shows it?"
    )

    assert (back.status, back.status_reason) == (S.NEEDS_CHANGES, "which photo shows it?")  # type: ignore[attr-defined]
    assert may_edit(contributor, back)
    assert actions_for(contributor, back) == [Action.SUBMIT]
    again = review_transition(record=back, action=Action.SUBMIT, by=contributor)
    assert again.status == S.SUBMITTED  # type: ignore[attr-defined]


def test_a_rejection_needs_a_reason_and_only_admins_reopen(
    ledger: Ledger, contributor: User, reviewer: User, admin_user: User
) -> None:
    loss = draft_by(ledger, contributor)
    review_transition(record=loss, action=Action.SUBMIT, by=contributor)

    with pytest.raises(InvalidInput, match="needs a reason"):
        review_transition(record=loss, action=Action.REJECT, by=reviewer)
    review_transition(record=loss, action=Action.REJECT, by=reviewer, reason="a T-55")
    with pytest.raises(Forbidden, match="only admins"):
        review_transition(record=loss, action=Action.REOPEN, by=reviewer, reason="look again")
    reopened = review_transition(
        record=loss, action=Action.REOPEN, by=admin_user, reason="new photo"
    )

    assert reopened.status == S.SUBMITTED  # type: ignore[attr-defined]
    latest = LossVersion.objects.filter(record=loss).latest("version")
    assert (latest.change_reason, latest.changed_by) == ("new photo", admin_user)


def test_a_move_that_does_not_apply_to_the_status_is_refused(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = draft_by(ledger, contributor)

    with pytest.raises(Forbidden, match="applies to submitted"):
        review_transition(record=loss, action=Action.VERIFY, by=reviewer)
    with pytest.raises(Forbidden, match="not a review action"):
        review_transition(record=loss, action="publish", by=reviewer)


def test_a_stale_decision_is_refused(ledger: Ledger, contributor: User, reviewer: User) -> None:
    loss = draft_by(ledger, contributor)
    opened = review_transition(record=loss, action=Action.SUBMIT, by=contributor)
    seen = opened.revision  # type: ignore[attr-defined]
    loss_update(loss=loss, markings="212", by=contributor)

    with pytest.raises(StaleEdit):
        review_transition(record=loss, action=Action.VERIFY, by=reviewer, revision=seen)


def test_deleted_and_merged_records_take_no_review_actions(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    loss = draft_by(ledger, contributor)
    review_transition(record=loss, action=Action.SUBMIT, by=contributor)
    loss_delete(loss=loss, by=reviewer, reason="spam")
    loss.refresh_from_db()

    assert actions_for(reviewer, loss) == []
    assert not may_edit(reviewer, loss)
    with pytest.raises(Forbidden, match="deleted"):
        review_transition(record=loss, action=Action.VERIFY, by=reviewer)


def test_contributors_edit_their_own_records_until_verified(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    own = draft_by(ledger, contributor)
    other = draft_by(ledger, reviewer)

    assert may_edit(contributor, own)
    assert not may_edit(contributor, other)
    assert may_edit(reviewer, own)
    review_transition(record=own, action=Action.SUBMIT, by=contributor)
    review_transition(record=own, action=Action.VERIFY, by=reviewer)
    own.refresh_from_db()
    assert not may_edit(contributor, own)


def test_claims_go_through_the_same_workflow(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    claim = Claim.objects.create(
        conflict=ledger.conflict,
        claimant="analysts",
        claimed_on="2021-07-20",
        scope="military vehicles",
        kind="about",
        number=700,
        created_by=contributor,
    )
    history.record_version(claim, by=contributor, kind=ChangeKind.CREATE)

    review_transition(record=claim, action=Action.SUBMIT, by=contributor)
    with pytest.raises(Forbidden, match="only reviewers"):
        review_transition(record=claim, action=Action.VERIFY, by=contributor)
    done = review_transition(record=claim, action=Action.VERIFY, by=reviewer)

    assert done.status == S.VERIFIED  # type: ignore[attr-defined]
