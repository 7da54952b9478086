"""Items gone from a source given whole are marked removed (kept, tagged), unmarked on return."""

from __future__ import annotations

from pathlib import Path

import pytest

from attrition.importers.models import SourceRecord
from attrition.importers.registry import ImportOptions, ImportRefused, import_run, source_read
from attrition.importers.report import ImportReport
from attrition.losses.models import Loss, LossVersion
from tests.importers.conftest import needs_pages, oryx_set, page_bytes

pytestmark = pytest.mark.usefixtures("reference", "tanks_and_bmps")

ONE = "https://i.postimg.cc/a1/1.jpg"
TWO = "https://i.postimg.cc/a2/2.jpg"
UKR = "https://i.postimg.cc/a3/3.jpg"
MOSKVA_LINK = '<a href="https://i.postimg.cc/GhPrsQVH/68.png">(1, sunk by Neptune AShM)</a>'


def import_csv(path: Path) -> ImportReport:
    data = source_read(path, directory=True)
    return import_run(kind="oryx_csv", data=data, source_name="set", options=ImportOptions())


def import_page(html: bytes) -> ImportReport:
    return import_run(kind="oryx_html", data=html, source_name="p", options=ImportOptions())


def tags(loss: Loss) -> list[str]:
    return list(loss.tags.values_list("name", flat=True))


def test_it_marks_an_item_gone_from_the_set_and_unmarks_it_when_it_returns(
    tmp_path: Path,
) -> None:
    full = [("Russia", "T-72B3", ONE), ("Russia", "T-72B3", TWO), ("Ukraine", "BMP-2", UKR)]
    import_csv(oryx_set(tmp_path / "s", full))
    report = import_csv(oryx_set(tmp_path / "s", [full[0], full[2]]))
    gone = f"Russia|T-72B3|{TWO}"
    assert report.gone == [gone]
    assert report.counts()["gone"] == 1
    record = SourceRecord.objects.get(external_id=gone)
    assert record.removed_at is not None
    assert tags(record.loss) == ["removed from oryx_data"]
    version = LossVersion._default_manager.filter(record=record.loss).order_by("version").last()
    assert version.changed_via == "import"
    assert "no longer in set" in version.change_reason
    assert Loss.objects.filter(deleted_at__isnull=True).count() == 3
    assert import_csv(tmp_path / "s").changes_nothing

    back = import_csv(oryx_set(tmp_path / "s", full))
    assert [(c.external_id, c.what) for c in back.updated] == [(gone, "back in the set")]
    record.refresh_from_db()
    assert record.removed_at is None
    assert tags(record.loss) == []
    assert import_csv(tmp_path / "s").changes_nothing


def test_it_marks_nothing_of_a_country_the_set_does_not_name(tmp_path: Path) -> None:
    import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", ONE), ("Ukraine", "BMP-2", UKR)]))
    report = import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", ONE)]))
    assert report.gone == []
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()


def test_it_marks_nothing_when_the_set_is_not_whole(tmp_path: Path) -> None:
    import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", ONE), ("Russia", "T-72B3", TWO)]))
    report = import_csv(oryx_set(tmp_path / "s", [("Russia", "T-72B3", ONE)], fates=("damaged",)))
    assert report.gone == []
    assert any("not whole" in note for note in report.notes)
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()


@needs_pages
def test_it_marks_an_item_gone_from_an_oryx_page_and_only_that_one() -> None:
    page = page_bytes("naval")
    import_page(page)
    assert MOSKVA_LINK.encode() in page
    report = import_page(page.replace(MOSKVA_LINK.encode(), b""))
    assert len(report.gone) == 1
    assert "Moskva" in report.gone[0]
    removed = SourceRecord.objects.get(removed_at__isnull=False)
    assert removed.loss is not None
    assert tags(removed.loss) == ["removed from Oryx"]
    assert Loss.objects.filter(deleted_at__isnull=True).count() == 39

    back = import_page(page)
    assert [c.what for c in back.updated] == ["back on the page"]
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()
    assert tags(removed.loss) == []
    assert import_page(page).changes_nothing


def test_it_refuses_an_input_that_drops_most_of_its_scope_unless_allowed(tmp_path: Path) -> None:
    full = [("Russia", "T-72B3", f"https://i.postimg.cc/b{n}/{n}.jpg") for n in range(30)]
    import_csv(oryx_set(tmp_path / "s", full))
    cut = oryx_set(tmp_path / "s", full[:5])  # a cut-off file: 25 of 30 items gone

    with pytest.raises(ImportRefused, match="no longer lists 25 of the 30 items"):
        import_csv(cut)
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()

    data = source_read(cut, directory=True)
    allowed = ImportOptions(params={"allow_removals": True})
    report = import_run(kind="oryx_csv", data=data, source_name="set", options=allowed)
    assert len(report.gone) == 25
    assert SourceRecord.objects.filter(removed_at__isnull=False).count() == 25
