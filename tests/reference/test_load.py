"""The reference data shipped in the package and its idempotent loader."""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from shapely.geometry import Point, shape

from attrition import history
from attrition.catalog.models import (
    Category,
    CategoryMapping,
    Conflict,
    EquipmentModel,
    EquipmentModelVersion,
    ModelAlias,
    Side,
)
from attrition.catalog.services import alias_normalize, model_lookup
from attrition.reference.files import DATA_DIR, ReferenceDataError
from attrition.reference.load import reference_load
from attrition.territory.models import AdminUnit, AdminUnitAlias, BoundarySet

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
KINDS: list[type[models.Model]] = [
    Category,
    CategoryMapping,
    EquipmentModel,
    EquipmentModelVersion,
    ModelAlias,
    BoundarySet,
    AdminUnit,
    AdminUnitAlias,
    Conflict,
    Side,
]


def row_counts() -> dict[str, int]:
    return {kind.__name__: kind._default_manager.count() for kind in KINDS}


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    return reference_load()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """Return a writable copy of the shipped data directory."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "data"))


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False))


def model_record(data: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    return next(r for r in data if r["slug"] == slug)


def test_it_loads_34_provinces_398_districts_and_one_country(loaded: dict[str, int]) -> None:
    units = AdminUnit.objects.filter(boundary_set__slug="afg-aims-398")
    assert units.filter(level=AdminUnit.Level.COUNTRY).count() == 1
    assert units.filter(level=AdminUnit.Level.PROVINCE).count() == 34
    assert units.filter(level=AdminUnit.Level.DISTRICT).count() == 398
    assert loaded["admin_units.created"] == 433
    country = units.get(level=AdminUnit.Level.COUNTRY)
    assert (country.code, country.name, country.parent) == ("AF", "Afghanistan", None)
    provinces = units.filter(level=AdminUnit.Level.PROVINCE)
    assert sorted(provinces.values_list("code", flat=True)) == [f"AF{n:02}" for n in range(1, 35)]
    assert set(provinces.values_list("parent_id", flat=True)) == {country.pk}


def test_it_nests_every_district_in_a_province_and_labels_it_inside(
    loaded: dict[str, int],
) -> None:
    districts = AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).select_related("parent")
    for district in districts:
        assert district.parent is not None
        assert district.parent.level == AdminUnit.Level.PROVINCE
        assert district.code.startswith(f"{district.parent.code}-")
        assert district.geometry is not None
        label = Point(district.label_lon, district.label_lat)
        assert shape(district.geometry).contains(label), district.code


def test_it_keeps_names_areas_and_borders_of_units(loaded: dict[str, int]) -> None:
    wakhan = AdminUnit.objects.get(code="AF17-wakhan")
    assert wakhan.name == "Wakhan"
    assert wakhan.parent is not None
    assert wakhan.parent.name == "Badakhshan"
    assert "CHN" in wakhan.border_countries
    badakhshan = AdminUnit.objects.get(code="AF17")
    assert badakhshan.name_local == "بدخشان"
    assert badakhshan.area_km2 == pytest.approx(43409, rel=0.001)
    assert sorted(badakhshan.border_countries) == ["CHN", "PAK", "TJK"]


def test_it_loads_the_conflict_with_its_sides_and_boundary_set(loaded: dict[str, int]) -> None:
    conflict = Conflict.objects.get(slug="afghanistan-2021")
    assert conflict.name == "Afghanistan 2021"
    assert str(conflict.period_start) == "2021-05-01"
    assert str(conflict.period_end) == "2021-08-31"
    assert "15 August 2021" in conflict.description
    west, south, east, north = conflict.extent
    assert (round(west), round(south), round(east), round(north)) == (60, 29, 75, 38)
    sides = {s.slug: s for s in conflict.sides.all()}
    assert set(sides) == {"andsf", "taliban"}
    assert sides["andsf"].name == "Afghan National Defense and Security Forces"
    assert sides["andsf"].short_name == "Afghan forces"
    assert sides["andsf"].colour != sides["taliban"].colour
    boundary_set = conflict.boundary_set
    assert boundary_set is not None
    assert boundary_set.slug == "afg-aims-398"
    assert boundary_set.licence == "CC BY 4.0"
    assert boundary_set.attribution.startswith(
        "Administrative boundaries courtesy of geoBoundaries.org"
    )


def test_it_loads_the_starter_catalog_with_aliases(loaded: dict[str, int]) -> None:
    asv = EquipmentModel.objects.get(slug="m1117-asv")
    assert (asv.category.slug, asv.country_of_production) == ("armoured-fighting-vehicles", "US")
    assert EquipmentModel.objects.get(slug="a-29").country_of_production == "BR"
    assert EquipmentModel.objects.get(slug="t-62m").country_of_production == "SU"
    assert model_lookup(name="M1117 Guardian") == asv
    assert model_lookup(name="m1117 'Guardian' ASV") == asv
    assert model_lookup(name="Humvee") == EquipmentModel.objects.get(slug="hmmwv")
    assert model_lookup(name="HMMWV M1151") == EquipmentModel.objects.get(slug="m1151-hmmwv")
    assert model_lookup(name="t 62 m") == EquipmentModel.objects.get(slug="t-62m")
    for alias in ModelAlias.objects.all():
        assert alias.normalized == alias_normalize(alias.alias)


def test_it_orders_categories_as_oryx_lists_them(loaded: dict[str, int]) -> None:
    names = list(Category.objects.order_by("order").values_list("name", flat=True))
    assert names[:3] == ["Tanks", "Armoured Fighting Vehicles", "Infantry Fighting Vehicles"]
    assert names[-1] == "Trucks, Vehicles and Jeeps"
    assert not Category.objects.filter(description="").exists()


def test_it_resolves_press_spellings_of_places(loaded: dict[str, int]) -> None:
    def unit_for(spelling: str, *, level: int) -> str:
        alias = AdminUnitAlias.objects.select_related("unit").get(
            normalized=alias_normalize(spelling), unit__level=level
        )
        return alias.unit.code

    province, district = AdminUnit.Level.PROVINCE, AdminUnit.Level.DISTRICT
    assert unit_for("Achin", level=district) == "AF06-acheen"
    assert unit_for("Gardez", level=district) == "AF13-gardiz"
    assert unit_for("Helmand", level=province) == "AF30"
    assert unit_for("Paktia", level=province) == "AF13"
    assert unit_for("Kondoz", level=province) == "AF19"
    # A province and its capital district share some spellings; the level tells them apart.
    assert unit_for("Herat", level=province) == "AF32"
    assert unit_for("Herat", level=district) == "AF32-hirat"
    assert unit_for("Sar-e Pol", level=province) == "AF22"
    assert unit_for("Sar-e Pol", level=district) == "AF22-sari-pul"


def test_it_records_one_import_version_per_model_it_creates(loaded: dict[str, int]) -> None:
    versions = EquipmentModelVersion.objects.all()
    assert versions.count() == EquipmentModel.objects.count() == loaded["equipment_models.created"]
    assert set(versions.values_list("change_kind", "changed_via", "change_reason")) == {
        (history.ChangeKind.IMPORT, "reference", "reference data")
    }


def test_it_changes_nothing_when_run_again(loaded: dict[str, int]) -> None:
    before = row_counts()
    out = io.StringIO()
    again = reference_load(stdout=out)
    assert all(n == 0 for n in again.values()), again
    assert row_counts() == before
    lines = out.getvalue().splitlines()
    assert len(lines) == len(again) // 2
    assert "admin_units: 0 created, 0 updated, 433 unchanged" in lines


def test_it_writes_a_summary_line_per_kind(db: None) -> None:
    out = io.StringIO()
    counts = reference_load(stdout=out)
    assert counts["categories.created"] == Category.objects.count()
    assert "categories: 25 created, 0 updated, 0 unchanged" in out.getvalue().splitlines()


def test_it_keeps_a_description_an_admin_edited(loaded: dict[str, int], data_copy: Path) -> None:
    edited = EquipmentModel.objects.get(slug="t-62")
    edited.description = "Our own note on the T-62."
    edited.save()
    history.record_version(edited, kind=history.ChangeKind.UPDATE, via="admin")

    def ship_new_descriptions(data: list[dict[str, Any]]) -> None:
        model_record(data, "t-62")["description"] = "A newer shipped description."
        model_record(data, "t-55")["description"] = "A corrected shipped description."

    edit_json(data_copy / "equipment_models.json", ship_new_descriptions)
    counts = reference_load(data_dir=data_copy)

    assert EquipmentModel.objects.get(slug="t-62").description == "Our own note on the T-62."
    t55 = EquipmentModel.objects.get(slug="t-55")
    assert t55.description == "A corrected shipped description."
    assert counts["equipment_models.updated"] == 1
    latest = EquipmentModelVersion.objects.filter(record_id=t55.pk).order_by("-version").first()
    assert latest is not None
    assert (latest.version, latest.change_kind, latest.changed_via) == (2, "import", "reference")


def test_it_leaves_a_model_edited_without_a_version_alone(
    loaded: dict[str, int], data_copy: Path
) -> None:
    EquipmentModel.objects.filter(slug="t-55").update(country_of_production="RU")

    def ship_new_country(data: list[dict[str, Any]]) -> None:
        model_record(data, "t-55")["country"] = "CZ"

    edit_json(data_copy / "equipment_models.json", ship_new_country)
    counts = reference_load(data_dir=data_copy)
    assert EquipmentModel.objects.get(slug="t-55").country_of_production == "RU"
    assert counts["equipment_models.updated"] == 0


def test_it_leaves_existing_rows_of_other_kinds_as_they_are(loaded: dict[str, int]) -> None:
    Category.objects.filter(slug="tanks").update(description="Tanks, as we define them.")
    AdminUnit.objects.filter(code="AF30").update(name="Helmand")
    Side.objects.filter(slug="taliban").update(colour="#000000")
    reference_load()
    assert Category.objects.get(slug="tanks").description == "Tanks, as we define them."
    assert AdminUnit.objects.get(code="AF30").name == "Helmand"
    assert Side.objects.get(slug="taliban").colour == "#000000"


def test_it_never_deletes_records_an_admin_added(loaded: dict[str, int], data_copy: Path) -> None:
    ugv = Category.objects.get(slug="unmanned-ground-vehicles")
    mine = EquipmentModel.objects.create(slug="uran-6", name="Uran-6", category=ugv)
    ModelAlias.objects.create(model=mine, alias="Uran 6", normalized="uran6")
    CategoryMapping.objects.create(source="csv", source_category="UGV", category=ugv)
    edit_json(data_copy / "equipment_models.json", lambda data: data.pop())
    before = row_counts()
    counts = reference_load(data_dir=data_copy)
    assert counts["equipment_models.created"] == 0
    assert row_counts() == before
    assert EquipmentModel.objects.filter(slug="international-7000-mv").exists()


def test_it_restores_a_shipped_alias_an_admin_deleted(loaded: dict[str, int]) -> None:
    ModelAlias.objects.filter(normalized="humvee").delete()
    counts = reference_load()
    assert counts["model_aliases.created"] == 1
    assert ModelAlias.objects.get(normalized="humvee").model.slug == "hmmwv"


def test_it_maps_a_renamed_oryx_heading_by_period(loaded: dict[str, int]) -> None:
    old = CategoryMapping.objects.get(source="oryx", source_category="Multiple Rocket Launchers")
    new = CategoryMapping.objects.get(source="oryx", source_category="Rocket and Missile Artillery")
    assert old.category == new.category
    assert old.category.slug == "multiple-rocket-launchers"
    assert old.valid_to is not None
    assert new.valid_from is not None
    assert new.valid_from <= old.valid_to  # the periods overlap: no page date maps to nothing


def oryx_page_headings(page: Path) -> set[str]:
    """Return the category headings ("Tanks (2054, of which ...)") of one stored Oryx page."""
    text = gzip.decompress(page.read_bytes()).decode("utf-8")
    headings = set()
    for raw in re.findall(r"<h3[^>]*>(.*?)</h3>", text, flags=re.S):
        heading = " ".join(html.unescape(re.sub(r"<[^>]+>", "", raw)).split())
        match = re.match(r"^(.+?)\s*\(\d+, of which", heading)
        if match:
            headings.add(match.group(1))
    return headings


def oryx_totals_types(path: Path) -> set[str]:
    """Return the equipment types of the Oryx totals CSV, without its summary rows."""
    with path.open(newline="", encoding="utf-8") as fh:
        types = {" ".join(row["equipment_type"].split()) for row in csv.DictReader(fh)}
    return {t for t in types if t != "All Types" and not t.startswith("Losses ")}


@pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"the shared test data is not at {SHARED_DATA}"
)
def test_it_maps_every_oryx_heading_in_the_real_pages(loaded: dict[str, int]) -> None:
    pages = sorted((SHARED_DATA / "borderlands_oryx_pages").glob("*.html.gz"))
    headings = set().union(*(oryx_page_headings(page) for page in pages))
    headings |= oryx_totals_types(SHARED_DATA / "oryx_data" / "totals_by_type.csv")
    assert len(pages) == 4
    assert len(headings) >= 40
    mapped = set(
        CategoryMapping.objects.filter(source="oryx").values_list("source_category", flat=True)
    )
    assert sorted(headings - mapped) == []


def test_it_names_the_file_and_record_of_a_malformed_file(db: None, data_copy: Path) -> None:
    edit_json(data_copy / "categories.json", lambda data: data[2].pop("name"))
    with pytest.raises(ReferenceDataError) as caught:
        reference_load(data_dir=data_copy)
    message = str(caught.value)
    assert message.startswith("categories.json: record 3 (slug 'infantry-fighting-vehicles')")
    assert "name: Field required" in message
    assert row_counts() == {kind.__name__: 0 for kind in KINDS}


@pytest.mark.parametrize(
    ("path", "corrupt", "expected"),
    [
        (
            "category_mappings.json",
            lambda data: data[0].update(category="tank"),
            "category_mappings.json: oryx 'Tanks': unknown category 'tank'",
        ),
        (
            "equipment_models.json",
            lambda data: data[1]["aliases"].append("T 55"),
            "equipment_models.json: model 't-62': alias 'T 55' normalises to 't55', "
            "already used by model 't-55'",
        ),
        (
            "equipment_models.json",
            lambda data: data[0].update(country="USSR"),
            "equipment_models.json: record 1 (slug 't-55'): country: String should match",
        ),
        (
            "conflicts/afghanistan-2021.json",
            lambda data: data.update(period_end="2021-04-01"),
            "conflicts/afghanistan-2021.json: Value error, period_end is before period_start",
        ),
        (
            "admin_unit_aliases.json",
            lambda data: data["units"].insert(
                0, {"province": "AF06", "district": "AF07-acheen", "aliases": ["Nowhere"]}
            ),
            "admin_unit_aliases.json: record 1 (district 'AF07-acheen'): "
            "Value error, district 'AF07-acheen' is not in province 'AF06'",
        ),
    ],
)
def test_it_explains_which_record_is_wrong(
    db: None, data_copy: Path, path: str, corrupt: Callable[[Any], None], expected: str
) -> None:
    edit_json(data_copy / path, corrupt)
    with pytest.raises(ReferenceDataError) as caught:
        reference_load(data_dir=data_copy)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_it_explains_a_broken_geojson_feature(db: None, data_copy: Path) -> None:
    path = data_copy / "boundary_sets" / "afg-aims-398-districts.geojson.gz"
    data = json.loads(gzip.decompress(path.read_bytes()))
    feature = data["features"][6]
    geometry = feature["geometry"]
    feature["geometry"] = {"type": "Point", "coordinates": [65.0, 33.0]}
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(ReferenceDataError) as caught:
        reference_load(data_dir=data_copy)
    assert str(caught.value).startswith(
        "boundary_sets/afg-aims-398-districts.geojson.gz: "
        f"record 7 (code {feature['properties']['code']!r}): "
        "geometry: Value error, geometry must be a GeoJSON Polygon or MultiPolygon"
    )
    feature["geometry"] = geometry
    feature["properties"]["parent"] = "AF99"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(ReferenceDataError, match=r"parent 'AF99' must come earlier"):
        reference_load(data_dir=data_copy)


def test_it_explains_a_file_that_is_not_json(db: None, data_copy: Path) -> None:
    (data_copy / "categories.json").write_text('[{"slug": "tanks",')
    with pytest.raises(ReferenceDataError, match=r"^categories.json: not valid JSON \(line 1"):
        reference_load(data_dir=data_copy)


def test_it_explains_a_missing_file(db: None, data_copy: Path) -> None:
    (data_copy / "equipment_models.json").unlink()
    with pytest.raises(ReferenceDataError, match=r"^equipment_models.json: file not found"):
        reference_load(data_dir=data_copy)


def test_it_loads_everything_in_a_couple_of_seconds(db: None) -> None:
    started = time.perf_counter()
    reference_load()
    assert time.perf_counter() - started < 3.0
