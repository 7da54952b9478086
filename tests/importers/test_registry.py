"""The importer registry and `attrition import`: reading files, refusing bad input clearly."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from attrition.cli import cli
from attrition.importers.registry import (
    ImportOptions,
    ImportRefused,
    import_run,
    importer_get,
    importer_names,
    source_read,
)
from attrition.losses.models import Loss
from tests.importers.conftest import needs_pages, page_bytes, page_path


def test_it_registers_the_oryx_page_importer() -> None:
    assert "oryx_html" in importer_names()
    assert importer_get("oryx_html").name == "oryx_html"
    with pytest.raises(ImportRefused, match="no importer 'nonesuch'"):
        importer_get("nonesuch")


@needs_pages
def test_it_reads_gzip_and_plain_files_alike(tmp_path: Path) -> None:
    plain = tmp_path / "naval.html"
    plain.write_bytes(page_bytes("naval"))
    assert source_read(plain) == source_read(page_path("naval")) == page_bytes("naval")


def test_it_refuses_urls_missing_files_and_broken_gzip(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="URL"):
        source_read(Path("https://www.oryxspioenkop.com/2022/02/x.html"))
    with pytest.raises(ImportRefused, match="no such file"):
        source_read(tmp_path / "nothing.html")
    broken = tmp_path / "page.html.gz"
    broken.write_bytes(gzip.compress(b"<html>" * 1000)[:50])
    with pytest.raises(ImportRefused, match="truncated gzip"):
        source_read(broken)


def test_it_refuses_a_status_other_than_submitted_or_verified(db: None) -> None:
    with pytest.raises(ImportRefused, match="submitted or verified"):
        import_run(
            kind="oryx_html", data=b"", source_name="x", options=ImportOptions(status="draft")
        )


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["import", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@needs_pages
@pytest.mark.usefixtures("reference")
def test_it_prints_the_report_of_a_dry_run_and_writes_nothing() -> None:
    status, out, err = invoke("oryx_html", str(page_path("naval")), "--dry-run")
    assert status == 0, err
    assert "dry run: nothing written" in out
    assert "Russia / Landing Ships: stated 4, parsed 4" in out
    assert "39 created" in err
    assert Loss.objects.count() == 0


@needs_pages
@pytest.mark.usefixtures("reference")
def test_it_imports_from_the_command_line(tmp_path: Path) -> None:
    status, out, err = invoke(
        "oryx_html",
        str(page_path("naval")),
        "--status",
        "verified",
        "--conflict",
        "russia-ukraine-2022",
    )
    assert status == 0, err
    assert "items: 39 new" in out
    assert Loss.objects.filter(status="verified").count() == 39


@needs_pages
@pytest.mark.usefixtures("reference")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda html: html[: len(html) // 3], "truncated"),
        (lambda html: b"\x7fELF\x02\x01\x01\x00\x00\x00" * 100, "binary"),
        (lambda html: "<html>caf\u00e9</html>".encode("latin-1"), "not UTF-8"),
        (lambda html: b"<html><body><p>Hello</p></body></html>", "not an Oryx"),
    ],
    ids=["truncated", "binary", "latin-1", "another-layout"],
)
def test_it_refuses_bad_input_clearly_and_writes_nothing(
    tmp_path: Path, content: object, message: str
) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(content(page_bytes("naval")))  # type: ignore[operator]
    status, _, err = invoke("oryx_html", str(path))
    assert status == 2
    assert err.startswith("attrition: ")
    assert message in err
    assert Loss.objects.count() == 0


def test_it_refuses_a_url_argument(db: None) -> None:
    status, _, err = invoke("oryx_html", "https://www.oryxspioenkop.com/2022/02/x.html")
    assert status == 2
    assert "importing from URLs is not supported yet" in err
