"""File exports of tallies, timelines, claims and estimates: from the pages, the API and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from click.testing import CliRunner
from django.test import Client

from attrition.accounts.models import User
from attrition.claims.models import Claim
from attrition.claims.services import claim_create
from attrition.cli import cli
from attrition.counting.services import tally_create
from attrition.evidence.services import evidence_create
from attrition.losses.choices import ReviewStatus
from attrition.losses.services import depiction_create
from attrition.review.workflow import Action, review_transition
from tests.ledger import Ledger


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def seeded(ledger: Ledger, reviewer: User) -> None:
    for n in range(12):
        loss = ledger.loss(
            model=ledger.ranger if n % 3 == 0 else ledger.t62,
            first_seen=dt.date(2021, 6 + n % 2, 1 + n),
        )
        for name in ["telegram", "x"] if n % 2 else ["telegram"]:
            ev = evidence_create(url=f"https://example.org/{name}/{n}", platform=name)
            depiction_create(loss=loss, evidence=ev)
    ledger.loss()  # undated
    tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)


def test_it_exports_a_tally_with_the_data_version_counted(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    seeded(ledger, reviewer)
    answer = anon_client.get("/api/v1/tallies/test-war/all").json()

    response = anon_client.get("/api/v1/tallies/test-war/all/export", {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="tally-test-war-all.csv"' in response["Content-Disposition"]
    table = rows(response.content.decode())
    assert {r["as_of"] for r in table} == {answer["as_of"]}
    assert table[0]["dimension"] == "total"
    assert table[0]["count"] == "13"
    assert {(r["key"], r["count"]) for r in table if r["dimension"] == "category"} == {
        ("test-tanks", "9"),
        ("test-trucks", "4"),
    }
    as_json = anon_client.get("/api/v1/tallies/test-war/all/export", {"format": "json"})
    assert json.loads(as_json.content) == answer  # the file is the API's answer
    old = anon_client.get("/api/v1/tallies/test-war/all/export?format=csv&as_of=2000-01-01")
    assert rows(old.content.decode())[0]["count"] == "0"


def test_it_exports_a_timeline_with_its_undated_items(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    seeded(ledger, reviewer)

    response = anon_client.get("/api/v1/tallies/test-war/all/timeline/export?format=csv")

    table = rows(response.content.decode())
    assert [(r["start"], r["count"], r["cumulative"]) for r in table] == [
        ("2021-06-01", "6", "6"),
        ("2021-07-01", "6", "12"),
        ("undated", "1", ""),
    ]
    as_json = anon_client.get(
        "/api/v1/tallies/test-war/all/timeline/export", {"format": "json", "period": "week"}
    )
    assert (
        json.loads(as_json.content)
        == anon_client.get("/api/v1/tallies/test-war/all/timeline", {"period": "week"}).json()
    )


def test_it_exports_claims_beside_counts_and_estimates_with_caveats(
    ledger: Ledger, reviewer: User, contributor: User, anon_client: Client
) -> None:
    seeded(ledger, reviewer)
    claim = claim_create(
        conflict=ledger.conflict,
        claimant='=HYPERLINK("http://evil")',
        claimed_on=dt.date(2021, 8, 20),
        scope="vehicles",
        scope_rule={},
        kind=Claim.Kind.ABOUT,
        number=700,
        status=ReviewStatus.SUBMITTED,
        by=contributor,
    )
    review_transition(record=claim, action=Action.VERIFY, by=reviewer)

    claims = rows(anon_client.get("/api/v1/claims/export").content.decode())
    assert [(c["number"], c["documented_now"]) for c in claims] == [("700", "13")]
    assert claims[0]["claimant"].startswith("'=")  # shown as text, never run as a formula
    estimate = anon_client.get("/api/v1/estimates/test-war/all/export?format=csv&lists=platform")
    [pooled] = rows(estimate.content.decode())
    assert pooled["stratum"] == "all"
    assert pooled["method"] == "chapman"
    assert pooled["lists"] == "telegram=12;x=6"
    assert "independence_untestable" in pooled["caveats"]
    assert "lists_assumed_independent" in pooled["caveats"]
    bad = anon_client.get("/api/v1/estimates/test-war/all/export?format=xlsx")
    assert bad.status_code == 400
    assert "format must be one of csv, json" in bad.json()["error"]["message"]


def test_the_pages_link_their_downloads(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    seeded(ledger, reviewer)

    for page in ("/counts/test-war/all/", "/claims/", "/estimates/test-war/all/"):
        html = anon_client.get(page).content.decode()
        links = [part.split('"')[0] for part in html.split('href="')[1:] if "export?" in part]
        assert {link.split("format=")[1][:4].rstrip("&") for link in links} >= {"csv", "json"}
        for link in links:
            assert anon_client.get(link.replace("&amp;", "&")).status_code == 200


def test_the_cli_prints_the_same_files(ledger: Ledger, reviewer: User, anon_client: Client) -> None:
    seeded(ledger, reviewer)
    runner = CliRunner()

    tally = runner.invoke(cli, ["tally", "test-war", "all", "--format", "json"])
    assert tally.exit_code == 0, tally.output
    assert json.loads(tally.output) == anon_client.get("/api/v1/tallies/test-war/all").json()
    text = runner.invoke(cli, ["tally", "test-war", "all", "--as-of", "2000-01-01"])
    assert text.output.startswith("At least 0 All")
    line = runner.invoke(cli, ["timeline", "test-war", "--tally", "all", "--format", "csv"])
    assert [r["count"] for r in rows(line.output)] == ["6", "6", "1"]
    claims = runner.invoke(cli, ["claims", "--format", "json"])
    assert json.loads(claims.output) == []
    estimate = runner.invoke(cli, ["estimate", "test-war", "--format", "csv", "--as-of", "x"])
    assert estimate.exit_code == 2
    assert "not a date" in estimate.output
