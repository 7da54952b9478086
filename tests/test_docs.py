"""The docs cover every setting and every command: a new one without docs fails here."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from attrition.cli import cli
from attrition.config import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"
SETTING_ROW = re.compile(r"^\| `(?P<name>[A-Z0-9_]+)` \| (?P<default>[^|]*?) \|", re.MULTILINE)


def documented_settings() -> dict[str, str]:
    """Return {name: default as written} from the table in docs/settings.md."""
    text = (DOCS / "settings.md").read_text()
    return {m["name"]: m["default"] for m in SETTING_ROW.finditer(text)}


def default_cell(default: str) -> str:
    """Return how docs/settings.md writes a default value."""
    return f"`{default}`" if default else "*(empty)*"


def cli_sections() -> dict[str, str]:
    """Return {"attrition up": the text of its section} from docs/cli.md."""
    text = (DOCS / "cli.md").read_text()
    sections: dict[str, str] = {}
    for chunk in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        sections[heading.strip().strip("`")] = body
    return sections


def commands() -> list[tuple[str, click.Command]]:
    """Return every command as (its full name, the command), the group first."""
    found: list[tuple[str, click.Command]] = [("attrition", cli)]
    for name, command in sorted(cli.commands.items()):
        found.append((f"attrition {name}", command))
        if isinstance(command, click.Group):
            for sub, subcommand in sorted(command.commands.items()):
                found.append((f"attrition {name} {sub}", subcommand))
    return found


@pytest.mark.parametrize("name", list(SETTINGS))
def test_it_documents_the_setting(name: str) -> None:
    documented = documented_settings()
    assert name in documented, f"{name} is missing from docs/settings.md"
    assert documented[name] == default_cell(SETTINGS[name].default), (
        f"docs/settings.md gives {name} the default {documented[name]}, "
        f"the code {default_cell(SETTINGS[name].default)}"
    )


def test_it_documents_no_setting_that_does_not_exist() -> None:
    assert set(documented_settings()) == set(SETTINGS)


@pytest.mark.parametrize(("path", "command"), commands(), ids=[path for path, _ in commands()])
def test_it_documents_the_command_and_its_options(path: str, command: click.Command) -> None:
    sections = cli_sections()
    assert path in sections, f"docs/cli.md has no section `## \\`{path}\\``"
    for param in command.params:
        if isinstance(param, click.Argument):
            assert re.search(rf"`{re.escape(param.human_readable_name)}[ `]", sections[path]), (
                f"docs/cli.md does not document the argument {param.human_readable_name} "
                f"of `{path}`"
            )
            continue
        names = [*param.opts, *param.secondary_opts]
        for option in names:
            assert re.search(rf"`{re.escape(option)}[ `]", sections[path]), (
                f"docs/cli.md does not document {option} of `{path}`"
            )


def test_it_documents_no_command_that_does_not_exist() -> None:
    assert set(cli_sections()) == {path for path, _ in commands()}


def test_it_documents_every_api_path(db: None) -> None:
    from attrition.api.main import api

    text = (DOCS / "api.md").read_text()
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path}`" in text, f"{method.upper()} {path} is undocumented"
