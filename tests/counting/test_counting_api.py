"""The counting API: tallies (as of a moment), timelines, claims and estimates."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from attrition.accounts.models import User
from attrition.counting.services import tally_create
from tests.ledger import Ledger


def test_it_lists_and_counts_tallies_for_anyone(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    ledger.loss(fates=["captured"])
    tally_create(
        conflict=ledger.conflict, name="Tanks", rule={"categories_in": ["test-tanks"]}, by=reviewer
    )

    listing = anon_client.get("/api/v1/tallies?conflict=test-war").json()
    [one] = listing
    assert one["total"] == 1
    assert one["sentence"].startswith("At least 1 Tanks")
    pinned = anon_client.get("/api/v1/tallies/test-war/tanks", {"as_of": one["as_of"]}).json()
    assert pinned["total"] == 1
    assert pinned["pinned"] is True
    earlier = anon_client.get("/api/v1/tallies/test-war/tanks?as_of=2000-01-01").json()
    assert earlier["total"] == 0


def test_it_answers_errors_in_the_one_shape(ledger: Ledger, anon_client: Client) -> None:
    missing = anon_client.get("/api/v1/tallies/test-war/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad = anon_client.get("/api/v1/tallies?conflict=nowhere")
    assert bad.json()["error"]["code"] == "not_found"


def test_it_lets_reviewers_save_and_change_tallies(
    ledger: Ledger, reviewer_client: Client, contributor_client: Client
) -> None:
    body = {"conflict": "test-war", "name": "Trucks", "rule": {"categories_in": ["test-trucks"]}}

    refused = contributor_client.post("/api/v1/tallies", body, content_type="application/json")
    made = reviewer_client.post("/api/v1/tallies", body, content_type="application/json")
    changed = reviewer_client.patch(
        "/api/v1/tallies/test-war/trucks",
        {"rule": {}, "reason": "all equipment"},
        content_type="application/json",
    )
    broken = reviewer_client.patch(
        "/api/v1/tallies/test-war/trucks",
        {"rule": {"sides": ["martians"]}},
        content_type="application/json",
    )

    assert refused.status_code == 403
    assert made.status_code == 201, made.json()
    assert made.json()["rule_text"].startswith("categories: test-trucks")
    assert changed.status_code == 200
    assert changed.json()["rule"]["categories_in"] == []
    assert broken.status_code == 400
    assert "unknown side" in broken.json()["error"]["message"]


def test_it_shows_a_timeline(ledger: Ledger, reviewer: User, anon_client: Client) -> None:
    ledger.loss(first_seen=dt.date(2021, 6, 1))
    ledger.loss(first_seen=dt.date(2021, 6, 9))
    tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)

    body = anon_client.get("/api/v1/tallies/test-war/all/timeline?period=week").json()

    assert [(p["start"], p["count"], p["cumulative"]) for p in body["points"]] == [
        ("2021-05-31", 1, 1),
        ("2021-06-07", 1, 2),
    ]
    bad = anon_client.get("/api/v1/tallies/test-war/all/timeline?basis=moon")
    assert bad.status_code == 400


def test_it_records_claims_and_lists_verified_ones_beside_counts(
    ledger: Ledger, contributor_client: Client, reviewer_client: Client, anon_client: Client
) -> None:
    ledger.loss()
    made = contributor_client.post(
        "/api/v1/claims",
        {
            "conflict": "test-war",
            "claimant": "Unnamed analysts",
            "claimed_on": "2021-07-20",
            "scope": "military vehicles",
            "scope_rule": {},
            "kind": "about",
            "number": 700,
            "status": "submitted",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.json()
    assert anon_client.get("/api/v1/claims").json() == []
    from attrition.claims.models import Claim
    from attrition.review.workflow import Action, review_transition

    review_transition(
        record=Claim.objects.get(pk=made.json()["id"]),
        action=Action.VERIFY,
        by=User.objects.get(username="bob"),
    )

    [claim] = anon_client.get("/api/v1/claims?conflict=test-war").json()
    assert claim["figure"] == "about 700"
    assert claim["documented_now"] == 1
    assert anon_client.post("/api/v1/claims", {}, content_type="application/json").status_code in (
        401,
        403,
    )


def test_it_estimates_and_explains_a_refusal(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    ledger.loss()
    tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)

    body = anon_client.get("/api/v1/estimates/test-war/all?lists=platform").json()

    assert body["documented"] == 1
    assert body["estimate"]["refused"] is True
    assert body["estimate"]["refusals"][0]["code"] in {"too_few_lists", "overlap_too_small"}
    bad = anon_client.get("/api/v1/estimates/test-war/all?lists=tarot")
    assert bad.status_code == 400
