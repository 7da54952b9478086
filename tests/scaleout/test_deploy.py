"""The deployment files under deploy/: shown whole in docs/deploy.md, and correct as they are."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from attrition import config
from attrition.backup.scaleout import env_file_read
from attrition.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FILES = sorted(p for p in DEPLOY.rglob("*") if p.is_file())
UNITS = [p for p in FILES if p.suffix == ".service"]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_it_shows_the_file_whole_in_the_docs(path: Path) -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text()
    assert f"`{path.relative_to(ROOT)}`" in docs
    assert path.read_text().rstrip() in docs, f"docs/deploy.md shows another {path.name}"


def test_it_ships_a_settings_file_of_settings_that_exist() -> None:
    env = env_file_read(DEPLOY / "attrition.env")
    for setting in config.SETTINGS.values():
        setting.read(env)
    assert config.QUEUE.read(env).startswith("redis://")
    assert config.STORAGE.read(env) == "s3"


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_it_starts_commands_that_exist(path: Path) -> None:
    [command] = re.findall(r"^ExecStart=\S+/attrition (.+)$", path.read_text(), re.MULTILINE)
    args = [a for a in command.split() if not a.startswith("$")]
    assert args[0] in {"serve", "worker"}
    cli.commands[args[0]].make_context(args[0], args[1:])  # refuses an option it lacks


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_it_ships_units_systemd_accepts(path: Path, tmp_path: Path) -> None:
    text = path.read_text().replace("/opt/attrition/.venv/bin/attrition", sys.executable)
    text = re.sub(r"^(User|Group)=.*$", r"\1=root", text, flags=re.MULTILINE)
    unit = tmp_path / path.name.replace("@.", "@1.")
    unit.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
