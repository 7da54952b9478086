"""The lists' text filter (`q`): a case-insensitive substring of a loss's markings, unit, place
or description, a model's name or alias, or "#id", read from the index of losses.textsearch.

Whatever a reader types is text to find, never syntax: neither LIKE's wildcards nor FTS5's
operators. Each case is checked against the rule itself, written out in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client

from attrition.catalog.models import EquipmentModel, ModelAlias
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.selectors import LossFilter, filtering, losses_filter
from attrition.losses.services import loss_delete, loss_restore, loss_update
from attrition.losses.textsearch import SQLITE_TRIGGERS, TABLE, on_post_migrate
from tests.ledger import Ledger

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
TEXTS = ("markings", "unit", "place_text", "description")


@dataclass
class Searchable:
    ledger: Ledger
    public: list[Loss]
    hidden: Loss


@pytest.fixture
def searchable(ledger: Ledger) -> Searchable:
    ModelAlias.objects.create(model=ledger.ranger, alias="Hilux-like pickup", normalized="hilux")
    public = [
        ledger.loss(markings="AB-1234 Z"),
        ledger.loss(unit="215th Motorised Corps"),
        ledger.loss(place_text="Near Pul-i-Khumri bridge"),
        ledger.loss(
            description='In a "convoy" video (near the 50% mark), NEAR(x y) AND it\'s burnt; '
            "col:val a*b ^c -d {e} [f]"
        ),
        ledger.loss(markings="A_B"),
        ledger.loss(markings="AxB", unit="5x0"),
        ledger.loss(ledger.ranger),
        ledger.loss(description="a ranger vehicle beside it"),
        ledger.loss(place_text="под Кундузом", markings="ЗИЛ-131"),
        ledger.loss(unit="2nd Brigade", place_text="Kunduz", markings="2"),
    ]
    hidden = ledger.loss(markings="AB-1234 Z", status=ReviewStatus.DRAFT)
    return Searchable(ledger, public, hidden)


def expected(searchable: Searchable, q: str) -> list[int]:
    """Return the public losses the rule selects, by id."""
    q = q.strip().casefold()
    found = []
    for loss in searchable.public:
        loss.refresh_from_db()
        model = EquipmentModel.objects.get(pk=loss.model_id)
        names = [model.name, *model.aliases.values_list("alias", flat=True)]
        if loss.deleted_at is None and any(
            q in value.casefold() for value in [*(getattr(loss, f) for f in TEXTS), *names]
        ):
            found.append(loss.pk)
    return sorted(found)


def api_ids(client: Client, q: str, **params: str) -> list[int]:
    response = client.get("/api/v1/losses", {"q": q, "limit": "500", **params})
    assert response.status_code == 200, response.content[:300]
    return sorted(item["id"] for item in response.json()["items"])


def page_ids(client: Client, q: str) -> tuple[list[int], int]:
    """Return the ids the search page lists and the count it says."""
    response = client.get("/losses/", {"q": q})
    assert response.status_code == 200, response.content[:300]
    page = response.content.decode()
    count = re.search(r"At least <strong>([\d,]+)</strong>", page)
    assert count is not None
    found = sorted(int(pk) for pk in re.findall(r'data-loss="(\d+)"', page))
    return found, int(count.group(1).replace(",", ""))


QUERIES = [
    # each column, inside a word, in another case
    "b-123",
    "AB-1234 z",
    "motorised CORPS",
    "215TH",
    "pul-i-khumri",
    "BRIDGE",
    "convoy",
    # LIKE's wildcards and escape, literally
    "50%",
    "%",
    "_",
    "A_B",
    "a_b",
    "x_b",
    "5_0",
    "\\",
    # FTS5's syntax, literally
    '"convoy"',
    'a "convoy" video',
    '"',
    '""',
    "NEAR(x y)",
    "near",
    "x y) AND it's",
    "AND",
    "it's",
    "'",
    "col:val",
    "a*b",
    "a*",
    "*",
    "^c",
    "-d",
    "(",
    ")",
    "{e} [f]",
    "OR",
    "NOT",
    "Pul OR bridge",
    # not ASCII
    "кундуз",
    "ЗИЛ-13",
    # model names and aliases
    "ranger",
    "FORD RANGER",
    "hilux",
    "(test)",
    "t-62",
    # one and two characters
    "2",
    "2n",
    "ab",
    "a",
    "z",
    "-",
    # nothing
    "zqxwv",
    "Kabul",
]


@pytest.mark.parametrize("q", QUERIES)
def test_it_finds_the_text_anywhere_whatever_its_case_and_syntax(
    searchable: Searchable, anon_client: Client, q: str
) -> None:
    assert api_ids(anon_client, q) == expected(searchable, q)


@pytest.mark.parametrize("walk_from", [1, 1000])
@pytest.mark.parametrize("q", ["AB-1234", "ranger", "near", "кундуз", "zqxwv"])
def test_it_finds_the_same_from_the_hits_as_by_walking_the_list(
    searchable: Searchable,
    anon_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    q: str,
    walk_from: int,
) -> None:
    """Few hits are read and sorted; many are tested along the list's order: the same losses."""
    monkeypatch.setattr(filtering, "_WALK_FROM", walk_from)
    assert api_ids(anon_client, q) == expected(searchable, q)
    one_by_one: list[int] = []
    url: str | None = f"/api/v1/losses?q={q}&limit=1"
    while url:
        body = anon_client.get(url).json()
        one_by_one += [item["id"] for item in body["items"]]
        url = body["next"]
    assert sorted(one_by_one) == expected(searchable, q)
    assert len(one_by_one) == len(set(one_by_one))


@pytest.mark.parametrize("q", ["\x00", "a\x00b", "ab\x00cd"])
def test_it_refuses_a_nul_character(searchable: Searchable, anon_client: Client, q: str) -> None:
    """No text holds one (PostgreSQL refuses it); SQLite would end the string there."""
    response = anon_client.get("/api/v1/losses", {"q": q})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert anon_client.get("/losses/", {"q": q}).status_code == 400


def test_it_finds_a_loss_by_its_number(searchable: Searchable, anon_client: Client) -> None:
    loss = searchable.public[3]
    assert api_ids(anon_client, f"#{loss.pk}") == [loss.pk]
    assert api_ids(anon_client, f"#{searchable.hidden.pk}") == []


def test_it_never_shows_what_readers_may_not_see(
    searchable: Searchable, anon_client: Client
) -> None:
    assert searchable.hidden.pk not in api_ids(anon_client, "AB-1234")
    assert api_ids(anon_client, "AB-1234") == [searchable.public[0].pk]


def test_an_edit_is_found_by_its_new_text_only(searchable: Searchable, anon_client: Client) -> None:
    loss = searchable.public[1]
    loss_update(loss=loss, unit="77th Air Assault", description="seen from the road")

    assert api_ids(anon_client, "corps") == []
    assert api_ids(anon_client, "air assault") == [loss.pk]
    assert api_ids(anon_client, "FROM THE ROAD") == [loss.pk]


def test_an_edit_of_other_fields_keeps_the_text_found(
    searchable: Searchable, anon_client: Client
) -> None:
    loss = searchable.public[2]
    loss_update(loss=loss, fates=["captured"], side=searchable.ledger.taliban)
    assert api_ids(anon_client, "khumri") == [loss.pk]


def test_a_soft_deleted_loss_leaves_the_results_and_a_restored_one_returns(
    searchable: Searchable, anon_client: Client
) -> None:
    loss = searchable.public[0]
    loss_delete(loss=loss, reason="a duplicate")
    assert api_ids(anon_client, "AB-1234") == []

    loss_restore(loss=loss)
    assert api_ids(anon_client, "AB-1234") == [loss.pk]


@pytest.mark.parametrize("q", ["b-123", "ranger", "50%", "near", "2", "кундуз", "zqxwv"])
def test_the_search_page_and_the_api_list_the_same_losses(
    searchable: Searchable, anon_client: Client, q: str
) -> None:
    listed, count = page_ids(anon_client, q)
    assert listed == api_ids(anon_client, q) == expected(searchable, q)
    assert count == len(listed)


def test_other_filters_narrow_a_text_search(searchable: Searchable, anon_client: Client) -> None:
    loss = searchable.ledger.loss(side=searchable.ledger.taliban, unit="216th Corps")
    assert api_ids(anon_client, "corps") == sorted([searchable.public[1].pk, loss.pk])
    assert api_ids(anon_client, "corps", side="taliban") == [loss.pk]


def test_it_filters_a_queryset_it_is_given(searchable: Searchable) -> None:
    every = Loss.objects.all()
    found = losses_filter(filters=LossFilter(q="ab-1234"), queryset=every)
    assert sorted(found.values_list("pk", flat=True)) == sorted(
        [searchable.public[0].pk, searchable.hidden.pk]
    )


def index_check() -> None:
    """Raise unless SQLite's text index holds exactly the table's text."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} ({TABLE}, rank) VALUES ('integrity-check', 1)")


@on_sqlite
def test_the_index_follows_inserts_updates_and_deletes(searchable: Searchable) -> None:
    ledger = searchable.ledger
    loss = Loss.objects.create(
        conflict=ledger.conflict, side=ledger.afghan, model=ledger.t62, fate="destroyed"
    )
    Loss.objects.filter(pk=loss.pk).update(markings="QQ-77", status=ReviewStatus.VERIFIED)
    index_check()
    assert list(losses_filter(filters=LossFilter(q="qq-77")).values_list("pk", flat=True)) == [
        loss.pk
    ]
    Loss.objects.filter(pk=loss.pk).delete()
    index_check()
    assert not losses_filter(filters=LossFilter(q="qq-77")).exists()


def test_bulk_inserts_are_found(searchable: Searchable, anon_client: Client) -> None:
    """The importers write losses with bulk_create."""
    ledger = searchable.ledger
    made = Loss.objects.bulk_create(
        Loss(
            conflict=ledger.conflict,
            side=ledger.afghan,
            model=ledger.t62,
            fate="destroyed",
            status=ReviewStatus.VERIFIED,
            markings=f"BULK-{i}",
        )
        for i in range(3)
    )
    assert api_ids(anon_client, "bulk-") == sorted(x.pk for x in made)
    if connection.vendor == "sqlite":
        index_check()


@on_sqlite
def test_the_index_comes_back_after_a_table_rebuild(
    searchable: Searchable, anon_client: Client
) -> None:
    """SQLite drops triggers when a migration rebuilds the table; post_migrate puts them back
    and reindexes what changed meanwhile."""
    loss = searchable.public[0]
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    Loss.objects.filter(pk=loss.pk).update(markings="CD-5678")

    on_post_migrate(sender=None)

    index_check()
    assert api_ids(anon_client, "cd-5678") == [loss.pk]
    assert api_ids(anon_client, "ab-1234") == []
    loss_update(loss=loss, markings="EF-9")
    assert api_ids(anon_client, "ef-9") == [loss.pk]


@pytest.mark.postgres
@pytest.mark.parametrize("q", ["corps", "a_b%"])
def test_postgresql_reads_the_trigram_index(searchable: Searchable, q: str) -> None:
    """The conditions Django writes for the filter are those the index holds (with a few rows
    the planner would rather read the table: it is told not to)."""
    queryset = losses_filter(filters=LossFilter(q=q), queryset=Loss.objects.order_by())
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count(f"Bitmap Index Scan on {TABLE}_trgm") == len(TEXTS), plan
