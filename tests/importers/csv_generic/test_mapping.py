"""Column mappings: validation, saving and reuse by name, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from attrition.cli import cli
from attrition.errors import InvalidInput, NotFound
from attrition.importers.csv_generic.mapping import mapping_get, mapping_parse
from attrition.importers.models import ColumnMapping
from attrition.losses.models import Loss
from tests.importers.csv_generic.conftest import HEADER, MAPPING
from tests.ledger import Ledger


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"fields": {"model": "M", "fate": "F", "colour": "C"}}, "unknown ledger field"),
        ({"fields": {"model": "M"}}, "required field(s) fate"),
        ({"fields": {"fate": "F"}}, "map `model` or `category`"),
        ({"fields": {"model": "M", "fate": {"column": "F", "constant": "x"}}}, "exactly one"),
        (
            {
                "fields": {
                    "model": "M",
                    "fate": "F",
                    "first_seen": {"column": "D", "formats": ["dd"]},
                }
            },
            "no % code",
        ),
        ({"fields": {"model": "M", "fate": "F"}, "delimiter": ";;"}, "delimiter"),
        ({"fields": {"model": "M", "fate": "F"}, "colour": "red"}, "colour"),
    ],
)
def test_it_refuses_a_mapping_naming_what_is_wrong(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match="is not valid") as refused:
        mapping_parse(raw, name="x")
    assert problem in refused.value.message


def test_it_reads_a_column_name_as_the_short_form_of_a_field() -> None:
    spec = mapping_parse({"fields": {"model": "Model", "fate": {"constant": "destroyed"}}})
    assert spec.columns() == {"model": "Model"}
    assert spec.fields["fate"].constant == "destroyed"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_it_saves_lists_shows_and_reuses_a_mapping_by_name(ledger: Ledger, tmp_path: Path) -> None:
    mapping_file = tmp_path / "tracker.json"
    mapping_file.write_text(json.dumps(MAPPING, ensure_ascii=False))
    assert invoke("import-mapping", "save", "tracker", str(mapping_file))[0] == 0
    code, out, _ = invoke("import-mapping", "list")
    assert code == 0
    assert out.splitlines()[0].startswith("attrition\t(built in)")
    assert "tracker" in out
    code, out, _ = invoke("import-mapping", "show", "tracker")
    assert json.loads(out)["fields"]["fate"]["values"]["уничтожен"] == "destroyed"
    data = tmp_path / "losses.csv"
    data.write_text(HEADER + "1,Afghan army,T-62 (test),tank,уничтожен,,,,,,,,\n")
    code, out, err = invoke(
        "import", "csv", str(data), "--mapping", "tracker", "--conflict", "test-war"
    )
    assert code == 0, err
    assert "1 new" in out
    assert Loss.objects.get().model == ledger.t62
    # The same mapping from its file gives the same ids: the second import changes nothing.
    code, out, err = invoke(
        "import", "csv", str(data), "--mapping-file", str(mapping_file), "--conflict", "test-war"
    )
    assert code == 0, err
    assert "0 new, 0 changed, 1 unchanged" in out


def test_it_replaces_a_saved_mapping_and_refuses_bad_ones(tmp_path: Path, db: None) -> None:
    good = tmp_path / "m.json"
    good.write_text(json.dumps({"fields": {"model": "M", "fate": "F"}}))
    assert invoke("import-mapping", "save", "mine", str(good))[0] == 0
    good.write_text(json.dumps({"description": "v2", "fields": {"model": "M2", "fate": "F"}}))
    code, _, err = invoke("import-mapping", "save", "mine", str(good))
    assert code == 0
    assert "replaced" in err + _
    assert mapping_get(name="mine").fields["model"].column == "M2"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = invoke("import-mapping", "save", "other", str(bad))
    assert code == 2
    assert "not JSON" in err
    code, _, err = invoke("import-mapping", "save", "attrition", str(good))
    assert code == 2
    assert "built-in" in err
    code, _, err = invoke("import-mapping", "save", "Not A Slug", str(good))
    assert code == 2
    assert "slug" in err
    assert list(ColumnMapping.objects.values_list("name", flat=True)) == ["mine"]
    with pytest.raises(NotFound, match="no column mapping 'nope'"):
        mapping_get(name="nope")


def test_it_refuses_mapping_options_that_do_not_fit(tmp_path: Path, db: None) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    code, _, err = invoke("import", "csv", str(data))
    assert code == 2
    assert "needs a column mapping" in err
    code, _, err = invoke("import", "oryx_html", str(data), "--mapping", "attrition")
    assert code == 2
    assert "only" in err
    code, _, err = invoke(
        "import", "csv", str(data), "--mapping", "attrition", "--mapping-file", str(data)
    )
    assert code == 2
    assert "not both" in err
