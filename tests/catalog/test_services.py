"""Alias normalisation, model lookup and adding aliases (attrition.catalog.services)."""

from __future__ import annotations

import pytest

from attrition.catalog.models import Category, EquipmentModel, ModelAlias
from attrition.catalog.services import (
    AliasTaken,
    alias_normalize,
    model_add_alias,
    model_lookup,
)
from attrition.errors import InvalidInput


@pytest.fixture
def tanks(db: None) -> Category:
    return Category.objects.create(slug="tanks", name="Tanks", order=10)


@pytest.fixture
def t62m(tanks: Category) -> EquipmentModel:
    return EquipmentModel.objects.create(slug="t-62m", name="T-62M", category=tanks)


@pytest.fixture
def t62(tanks: Category) -> EquipmentModel:
    return EquipmentModel.objects.create(slug="t-62", name="T-62", category=tanks)


@pytest.mark.parametrize(
    "spelling",
    [
        "T-62M",
        "t62m",
        "T 62 M",
        "  T-62 M ",
        "T\u201162M",  # non-breaking hyphen, as pasted from web pages
        "T\u201362M",  # en dash
        "\uff34\uff0d\uff16\uff12\uff2d",  # full-width "T-62M", folded by NFKC
        "T_62/M.",
    ],
)
def test_it_folds_case_punctuation_spacing_and_width(spelling: str) -> None:
    assert alias_normalize(spelling) == "t62m"


def test_it_keeps_the_difference_between_distinct_models() -> None:
    assert alias_normalize("T-62") != alias_normalize("T-62M")
    assert alias_normalize("M1151") != alias_normalize("M1152")


def test_it_folds_quotes_and_keeps_non_latin_letters() -> None:
    assert alias_normalize("M1117 'Guardian' ASV") == alias_normalize("M1117 Guardian ASV")
    assert alias_normalize("Mi-17V-5") == "mi17v5"
    assert alias_normalize("ميگ-۲۱") == "ميگ۲۱"
    assert alias_normalize("Straße") == alias_normalize("STRASSE")


def test_it_normalises_text_without_letters_or_digits_to_nothing() -> None:
    assert alias_normalize(" - / . ") == ""


def test_it_finds_a_model_by_exact_name(t62m: EquipmentModel) -> None:
    assert model_lookup(name="T-62M") == t62m


def test_it_finds_a_model_by_slug(t62m: EquipmentModel) -> None:
    assert model_lookup(name="t-62m") == t62m


def test_it_finds_a_model_by_a_normalised_alias(t62m: EquipmentModel) -> None:
    model_add_alias(model=t62m, alias="T-62M obr. 1983")
    assert model_lookup(name="t62m OBR 1983") == t62m


def test_it_prefers_the_exact_name_to_another_models_alias(
    t62: EquipmentModel, t62m: EquipmentModel
) -> None:
    ModelAlias.objects.create(model=t62m, alias="T 62", normalized=alias_normalize("T 62"))
    assert model_lookup(name="T-62") == t62
    assert model_lookup(name="t 62") == t62m


def test_it_returns_none_for_an_unknown_name(t62m: EquipmentModel) -> None:
    assert model_lookup(name="Leopard 2A6") is None
    assert model_lookup(name="---") is None


def test_it_fills_the_normalised_form_of_a_new_alias(t62m: EquipmentModel) -> None:
    alias = model_add_alias(model=t62m, alias="  T-62M   Obr.1983 ")
    alias.refresh_from_db()
    assert alias.alias == "T-62M Obr.1983"
    assert alias.normalized == "t62mobr1983"
    assert alias.model == t62m


def test_it_returns_the_existing_alias_when_the_model_already_has_it(
    t62m: EquipmentModel,
) -> None:
    first = model_add_alias(model=t62m, alias="T-62M1")
    again = model_add_alias(model=t62m, alias="t 62 m 1")
    assert again.pk == first.pk
    assert ModelAlias.objects.filter(model=t62m).count() == 1


def test_it_refuses_an_alias_that_belongs_to_another_model(
    t62: EquipmentModel, t62m: EquipmentModel
) -> None:
    model_add_alias(model=t62, alias="T-62 obr. 1967")
    with pytest.raises(AliasTaken, match=r"already belongs to 'T-62'") as caught:
        model_add_alias(model=t62m, alias="t62 OBR 1967")
    assert caught.value.details == {"alias": "t62 OBR 1967", "model": "t-62"}
    assert caught.value.as_dict()["error"]["code"] == "alias_taken"
    assert not ModelAlias.objects.filter(model=t62m).exists()


def test_it_refuses_an_alias_without_letters_or_digits(t62m: EquipmentModel) -> None:
    with pytest.raises(InvalidInput, match="no letters or digits"):
        model_add_alias(model=t62m, alias="--")


def test_it_refuses_an_alias_longer_than_the_column(t62m: EquipmentModel) -> None:
    with pytest.raises(InvalidInput, match="longer than 200"):
        model_add_alias(model=t62m, alias="T" * 201)
