"""The store step keeps originals under their SHA-256 and never overwrites one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from attrition.capture.errors import StoreConflict
from attrition.capture.steps.store import key_for, run


def file_with(tmp_path: Path, body: bytes) -> tuple[Path, str]:
    path = tmp_path / "fetched.part"
    path.write_bytes(body)
    return path, hashlib.sha256(body).hexdigest()


def test_it_stores_under_the_sha256(capture_storage: Path, tmp_path: Path) -> None:
    path, sha = file_with(tmp_path, b"original bytes")
    stored = run(path=path, sha256=sha, size=14)
    assert stored.key == f"captures/{sha[:2]}/{sha[2:4]}/{sha}" == key_for(sha)
    assert stored.created
    assert (capture_storage / stored.key).read_bytes() == b"original bytes"


def test_it_reuses_the_same_bytes_and_leaves_no_temporary_object(
    capture_storage: Path, tmp_path: Path
) -> None:
    path, sha = file_with(tmp_path, b"same bytes")
    first = run(path=path, sha256=sha, size=10)
    before = (capture_storage / first.key).stat()
    again = run(path=path, sha256=sha, size=10)
    assert again.key == first.key
    assert not again.created
    assert (capture_storage / first.key).stat().st_mtime_ns == before.st_mtime_ns
    incoming = capture_storage / "captures" / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_it_never_overwrites_a_different_object(capture_storage: Path, tmp_path: Path) -> None:
    path, sha = file_with(tmp_path, b"the real original")
    target = capture_storage / key_for(sha)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"corrupt")
    with pytest.raises(StoreConflict, match="left untouched"):
        run(path=path, sha256=sha, size=17)
    assert target.read_bytes() == b"corrupt"


def test_it_goes_through_django_storage(capture_storage: Path, tmp_path: Path) -> None:
    path, sha = file_with(tmp_path, b"through storage")
    stored = run(path=path, sha256=sha, size=15)
    with default_storage.open(stored.key, "rb") as fh:
        assert fh.read() == b"through storage"
