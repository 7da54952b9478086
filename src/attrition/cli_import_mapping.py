"""The `attrition import-mapping` commands: save, list and show CSV column mappings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from attrition.cli_base import CliError, say


@click.group(name="import-mapping")
def import_mapping() -> None:
    """Save, list and show the column mappings of `attrition import csv`."""


def mapping_file_read(path: str, *, name: str = "") -> Any:
    """Return the validated mapping in a JSON file, or fail saying what is wrong with it."""
    from attrition.importers.csv_generic.mapping import MAX_MAPPING_BYTES, mapping_json_parse

    file = Path(path)
    try:
        if file.stat().st_size > MAX_MAPPING_BYTES:
            raise CliError(f"{file} is larger than {MAX_MAPPING_BYTES // 1024} kB: not a mapping")
        data = file.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{file}: no such file") from None
    except OSError as exc:
        raise CliError(f"{file} cannot be read: {exc.strerror or exc}") from None
    return mapping_json_parse(data, name=name or file.stem)


@import_mapping.command(name="save")
@click.argument("name")
@click.argument("file", metavar="FILE")
def mapping_save_command(name: str, file: str) -> None:
    """Check the mapping in FILE (JSON) and save it as NAME, replacing a saved one of that name."""
    from attrition.importers.csv_generic.mapping import mapping_save

    spec = mapping_file_read(file, name=name)
    mapping, created = mapping_save(name=name, spec=spec)
    say(f"{'saved' if created else 'replaced'} the column mapping {mapping.name!r}")


@import_mapping.command(name="list")
def mapping_list_command() -> None:
    """List the column mappings: the built-in one, then the saved ones."""
    from attrition.importers.csv_generic.mapping import ATTRITION_MAPPING, BUILTIN
    from attrition.importers.models import ColumnMapping

    click.echo(f"{BUILTIN}\t(built in) {ATTRITION_MAPPING['description']}")
    for mapping in ColumnMapping.objects.exclude(name=BUILTIN):
        click.echo(f"{mapping.name}\t{mapping.description}")


@import_mapping.command(name="show")
@click.argument("name")
def mapping_show_command(name: str) -> None:
    """Print the mapping saved as NAME (or the built-in `attrition`) as JSON."""
    from attrition.importers.csv_generic.mapping import mapping_get

    spec = mapping_get(name=name)
    click.echo(json.dumps(spec.model_dump(exclude_defaults=True), indent=2, ensure_ascii=False))
