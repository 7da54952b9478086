"""Importing another boundary set from GeoJSON: nested units, all or nothing, idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, shape

from attrition.errors import InvalidInput
from attrition.territory.boundaries import Properties, boundary_set_import
from attrition.territory.models import AdminUnit, BoundarySet

GEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "geo"
PROVINCE = Properties(code="adm1_pcode", name="name_en", local_name="name_prs")
DISTRICT = Properties(code="district_id", name="name_en", parent="adm1_pcode")


def square(x: float, y: float) -> dict[str, Any]:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(*features: tuple[dict[str, Any], dict[str, Any] | None]) -> bytes:
    body = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    return json.dumps(body).encode()


PROVINCES = collection(
    ({"adm1_pcode": "XX01", "name_en": "North", "name_prs": "شمال"}, square(0, 1)),
    ({"adm1_pcode": "XX02", "name_en": "South"}, square(0, 0)),
)
DISTRICTS = collection(
    ({"district_id": "XX01-a", "name_en": "Alpha", "adm1_pcode": "XX01"}, square(0, 1)),
    ({"district_id": "XX02-b", "name_en": "Bravo", "adm1_pcode": "XX02"}, square(0, 0)),
    ({"district_id": "XX02-c", "name_en": "Charlie", "adm1_pcode": "XX02"}, square(0.5, 0)),
)


def run(provinces: bytes = PROVINCES, districts: bytes = DISTRICTS, **extra: Any) -> Any:
    return boundary_set_import(
        slug="xx-test",
        name="Test land",
        source="tests",
        licence="CC0",
        attribution="tests",
        country_code="XX",
        country_name="Test land",
        provinces=provinces,
        districts=districts,
        province_props=PROVINCE,
        district_props=DISTRICT,
        **extra,
    )


@pytest.mark.django_db
def test_it_nests_districts_in_provinces_under_the_country() -> None:
    report = run()

    assert report.created == {"provinces": 2, "districts": 3}
    charlie = AdminUnit.objects.get(code="XX02-c")
    assert (charlie.level, charlie.parent.code, charlie.parent.parent.code) == (2, "XX02", "XX")
    assert AdminUnit.objects.get(code="XX01").name_local == "شمال"
    # The label point lies inside the unit, so markers and names land on it.
    assert shape(charlie.geometry).contains(Point(charlie.label_lon, charlie.label_lat))


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_and_a_second_import_creates_nothing() -> None:
    planned = run(dry_run=True)
    assert planned.created == {"provinces": 2, "districts": 3}
    assert not BoundarySet.objects.exists()

    run()
    again = run()

    assert again.created == {"provinces": 0, "districts": 0}
    assert again.existing == 6
    assert AdminUnit.objects.count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("districts", "error"),
    [
        (
            collection(
                ({"district_id": "XX09-z", "name_en": "Zulu", "adm1_pcode": "XX09"}, square(5, 5))
            ),
            "name no province of the province file: XX09-z",
        ),
        (
            collection(
                (
                    {"district_id": "XX01-a", "name_en": "Alpha", "adm1_pcode": "XX01"},
                    {"type": "Point", "coordinates": [0, 0]},
                )
            ),
            "district feature 1 (XX01-a): the geometry is not a valid Polygon",
        ),
        (
            collection(({"name_en": "Nameless", "adm1_pcode": "XX01"}, square(0, 1))),
            "has no 'district_id' property",
        ),
        (
            collection(
                ({"district_id": "XX01", "name_en": "Twice", "adm1_pcode": "XX01"}, square(0, 1))
            ),
            "codes used twice: XX01",
        ),
        (b"<html>not json</html>", "the district file is not JSON"),
    ],
)
def test_one_bad_feature_refuses_the_whole_import(districts: bytes, error: str) -> None:
    with pytest.raises(InvalidInput, match=error.replace("(", r"\(").replace(")", r"\)")):
        run(districts=districts)

    assert not BoundarySet.objects.exists()
    assert not AdminUnit.objects.exists()


@pytest.mark.django_db
def test_it_imports_the_shipped_afghan_files_as_a_new_set() -> None:
    report = boundary_set_import(
        slug="afg-copy",
        name="Afghanistan again",
        source="geoBoundaries",
        licence="CC-BY-4.0",
        attribution="geoBoundaries.org",
        country_code="AF",
        country_name="Afghanistan",
        provinces=(GEO / "afg_adm1_provinces.geojson").read_bytes(),
        districts=(GEO / "afg_adm2_districts.geojson").read_bytes(),
        province_props=PROVINCE,
        district_props=DISTRICT,
    )

    assert report.created == {"provinces": 34, "districts": 398}
    badakhshan = AdminUnit.objects.get(boundary_set__slug="afg-copy", name="Badakhshan", level=1)
    assert badakhshan.children.count() == 28
