"""Saved tallies: reviewers save them, readers cite them, and a permalink keeps its number."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from attrition.accounts.models import User
from attrition.claims.models import Claim
from attrition.claims.selectors import claims_beside
from attrition.claims.services import claim_create
from attrition.counting import selectors
from attrition.counting.services import tally_create, tally_update
from attrition.errors import Forbidden, InvalidInput
from attrition.losses.choices import ReviewStatus
from attrition.losses.services import loss_delete, loss_merge, loss_update
from attrition.losses.tally import TallyRule, data_version, tally_count
from attrition.review.workflow import Action, review_transition
from tests.ledger import Ledger


def armour(ledger: Ledger, by: User) -> object:
    return tally_create(
        conflict=ledger.conflict,
        name="Armoured vehicles",
        rule={"sides": ["andsf"], "categories_out": ["test-trucks"]},
        by=by,
    )


def test_it_lets_a_reviewer_save_a_tally_and_not_a_contributor(
    ledger: Ledger, reviewer: User, contributor: User
) -> None:
    with pytest.raises(Forbidden):
        tally_create(conflict=ledger.conflict, name="x", rule={}, by=contributor)

    tally = tally_create(conflict=ledger.conflict, name="Armoured vehicles", rule={}, by=reviewer)

    assert tally.slug == "armoured-vehicles"
    assert tally.versions.count() == 1  # type: ignore[attr-defined]


def test_it_refuses_a_rule_naming_an_unknown_category(ledger: Ledger, reviewer: User) -> None:
    with pytest.raises(InvalidInput, match="unknown category"):
        tally_create(
            conflict=ledger.conflict, name="x", rule={"categories_in": ["ufos"]}, by=reviewer
        )


def test_it_counts_a_saved_tally_with_its_sentence_and_breakdown(
    ledger: Ledger, reviewer: User
) -> None:
    ledger.loss(model=ledger.t62, fates=["captured"])
    ledger.loss(model=ledger.t55, fates=["destroyed"])
    ledger.loss(model=ledger.ranger, fates=["captured"])
    tally = tally_create(
        conflict=ledger.conflict,
        name="armoured vehicles",
        rule={"sides": ["andsf"], "categories_out": ["test-trucks"]},
        by=reviewer,
    )

    report = selectors.tally_report(tally=tally)

    assert report.result.total == 2
    assert report.sentence.startswith("At least 2 armoured vehicles (lost by: andsf; excluding")
    assert "Items never shown on the web are not in this count." in report.sentence
    assert [(x.key, x.count) for x in report.by_category] == [("test-tanks", 2)]
    assert dict((x.key, x.count) for x in report.by_fate) == {
        "destroyed": 1,
        "damaged": 0,
        "abandoned": 0,
        "captured": 1,
    }
    # The pinned moment is the data version, or the tally's own later edit.
    edited = tally.versions.get().valid_from  # type: ignore[attr-defined]
    assert report.as_of == max(data_version() or edited, edited)
    assert "as_of=" in report.permalink


def test_a_permalink_reproduces_its_number_after_later_edits(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    kept = ledger.loss(model=ledger.t62, fates=["captured"])
    edited = ledger.loss(model=ledger.t55, fates=["captured"])
    gone = ledger.loss(model=ledger.t55, fates=["destroyed"])
    tally = tally_create(
        conflict=ledger.conflict,
        name="Captured armour",
        rule={"categories_in": ["test-tanks"], "fates": ["captured"]},
        by=reviewer,
    )
    cited = selectors.tally_report(tally=tally)
    assert cited.result.total == 2

    # After the fact: a new loss, a changed fate, a deletion, a merge, and a changed rule.
    ledger.loss(model=ledger.t62, fates=["captured"])
    loss_update(loss=edited, fates=["captured", "destroyed"], reason="later video")
    loss_delete(loss=gone, reason="entered twice")
    duplicate = ledger.loss(model=ledger.t62, fates=["captured"])
    loss_merge(loss=duplicate, into=kept, reason="same hull number")
    tally_update(tally=tally, by=reviewer, rule={"categories_in": ["test-tanks"]})

    assert selectors.tally_report(tally=tally).result.total == 3  # today: rule and data changed
    as_of = parse_qs(urlsplit(cited.permalink).query)["as_of"][0]
    again = selectors.tally_report(tally=tally, as_of=selectors.as_of_parse(as_of))
    assert again.result.total == 2
    assert again.result.by_fate == cited.result.by_fate
    assert again.rule == TallyRule(categories_in=["test-tanks"], fates=["captured"])  # type: ignore[list-item]
    page = anon_client.get(cited.permalink)
    assert page.status_code == 200
    assert "At least 2 Captured armour" in page.content.decode()


def test_it_gives_the_numbers_the_ledger_had_on_an_earlier_date(ledger: Ledger) -> None:
    first = ledger.loss(fates=["captured"])
    second = ledger.loss(model=ledger.ranger, fates=["abandoned"])
    then = timezone.now()
    before = tally_count(conflict=ledger.conflict)

    loss_update(loss=first, fates=["captured", "destroyed"], reason="later video")
    loss_delete(loss=second, reason="not a military vehicle")
    ledger.loss(side=ledger.taliban, fates=["destroyed"])

    replay = tally_count(conflict=ledger.conflict, as_of=then)
    assert (replay.total, replay.by_fate, replay.by_side) == (
        before.total,
        before.by_fate,
        before.by_side,
    )
    now = tally_count(conflict=ledger.conflict)
    assert now.total == 2
    assert now.by_fate == {"destroyed": 2}
    # Counting as of the data version is counting today.
    assert tally_count(conflict=ledger.conflict, as_of=data_version()).by_fate == now.by_fate


def test_a_claim_never_changes_a_documented_count(
    ledger: Ledger, reviewer: User, contributor: User, admin_user: User
) -> None:
    ledger.loss(fates=["captured"])
    ledger.loss(model=ledger.ranger, fates=["destroyed"])
    tally = tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)
    before = selectors.tally_report(tally=tally).result

    claim = claim_create(
        conflict=ledger.conflict,
        claimant="Unnamed analysts",
        claimed_on=dt.date(2021, 8, 20),
        scope="military vehicles",
        scope_rule={},
        kind=Claim.Kind.ABOUT,
        number=700,
        status=ReviewStatus.SUBMITTED,
        by=contributor,
    )
    review_transition(record=claim, action=Action.VERIFY, by=reviewer)

    after = selectors.tally_report(tally=tally).result
    assert (after.total, after.by_fate, after.by_category) == (
        before.total,
        before.by_fate,
        before.by_category,
    )
    [row] = claims_beside(conflict=ledger.conflict)
    assert row.figure == "about 700"
    assert row.documented_now == 2
    assert tally_count(conflict=ledger.conflict).total == 2


def test_it_shows_the_documented_count_on_the_day_of_the_claim(
    ledger: Ledger, contributor: User, reviewer: User
) -> None:
    ledger.loss(fates=["captured"])
    claim = claim_create(
        conflict=ledger.conflict,
        claimant="A ministry",
        claimed_on=timezone.now().date() - dt.timedelta(days=400),
        scope="tanks",
        scope_rule={"categories_in": ["test-tanks"]},
        kind=Claim.Kind.RANGE,
        number=50,
        number_high=80,
        status=ReviewStatus.SUBMITTED,
        by=contributor,
    )
    review_transition(record=claim, action=Action.VERIFY, by=reviewer)

    [row] = claims_beside()

    assert row.figure == "between 50 and 80"
    assert row.documented_then == 0  # nothing was in the ledger yet
    assert row.documented_now == 1


def test_it_keeps_unverified_claims_off_the_public_list(ledger: Ledger, contributor: User) -> None:
    claim_create(
        conflict=ledger.conflict,
        claimant="x",
        claimed_on=dt.date(2021, 8, 1),
        scope="y",
        number=1,
        by=contributor,
    )

    assert claims_beside() == []


def test_it_refuses_a_claim_with_a_bad_range(ledger: Ledger, contributor: User) -> None:
    with pytest.raises(InvalidInput, match="number_high"):
        claim_create(
            conflict=ledger.conflict,
            claimant="x",
            claimed_on=dt.date(2021, 8, 1),
            scope="y",
            kind=Claim.Kind.RANGE,
            number=10,
            number_high=5,
            by=contributor,
        )


def test_it_renders_the_public_counting_pages(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    ledger.loss(fates=["captured"])
    tally_create(
        conflict=ledger.conflict,
        name="Tanks",
        rule={"categories_in": ["test-tanks"]},
        description="Main battle tanks.",
        by=reviewer,
    )

    listing = anon_client.get("/counts/").content.decode()
    method = anon_client.get("/methodology/").content.decode()

    assert "At least 1 Tanks (categories: test-tanks" in listing
    assert "categories: test-tanks; status: verified" in method
    assert "Main battle tanks." in method
    for url in ["/claims/", "/estimates/", "/counts/test-war/tanks/?period=week&basis=posted"]:
        assert anon_client.get(url).status_code == 200, url
    assert anon_client.get("/counts/test-war/nope/").status_code == 404
    assert anon_client.get("/counts/test-war/tanks/?as_of=yesterday").status_code == 400


def test_it_hides_private_tallies(ledger: Ledger, reviewer: User, anon_client: Client) -> None:
    tally_create(conflict=ledger.conflict, name="Draft rule", rule={}, is_public=False, by=reviewer)

    assert "Draft rule" not in anon_client.get("/counts/").content.decode()
    assert anon_client.get("/counts/test-war/draft-rule/").status_code == 404
