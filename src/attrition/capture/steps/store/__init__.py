"""Step 4, store: put a fetched file into storage under its SHA-256, never overwriting.

The key is `captures/ab/cd/<sha256>`. An object already there with the same size is the same
bytes and is reused. A new object is written under a temporary name and only then given its
final name, so the final name never holds a partial file: a record made after this step never
points at a missing or truncated original.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, default_storage

from attrition.capture.errors import StoreConflict

PREFIX = "captures"


@dataclass(frozen=True)
class Stored:
    """Where an original is kept, and whether this call put it there."""

    key: str
    created: bool


def key_for(sha256: str) -> str:
    """Return the storage key of the original with this SHA-256."""
    return f"{PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def run(*, path: Path, sha256: str, size: int, storage: Storage | None = None) -> Stored:
    """Return where the file's bytes are stored, storing them unless they already are."""
    storage = storage or default_storage
    key = key_for(sha256)
    if storage.exists(key):
        return reuse(storage, key, size)
    tmp_key = f"{PREFIX}/incoming/{sha256}.{uuid.uuid4().hex}.part"
    with path.open("rb") as fh:
        tmp_key = storage.save(tmp_key, File(fh))
    try:
        return publish(storage, tmp_key, key, size)
    finally:
        if storage.exists(tmp_key):
            storage.delete(tmp_key)


def publish(storage: Storage, tmp_key: str, key: str, size: int) -> Stored:
    """Give a fully written temporary object its final key, unless another writer did first."""
    try:
        tmp_path, final_path = Path(storage.path(tmp_key)), Path(storage.path(key))
    except NotImplementedError:
        # Object storage (S3) has no rename, but a PUT is atomic: the object appears whole.
        with storage.open(tmp_key, "rb") as fh:
            if storage.exists(key):
                return reuse(storage, key, size)
            saved = storage.save(key, File(fh))
        if saved != key:  # a concurrent writer won between exists() and save()
            storage.delete(saved)
            return reuse(storage, key, size)
        return Stored(key=key, created=True)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tmp_path, final_path)  # fails rather than overwrite an existing original
    except FileExistsError:
        return reuse(storage, key, size)
    return Stored(key=key, created=True)


def reuse(storage: Storage, key: str, size: int) -> Stored:
    """Return the existing object at `key`, after checking it has the expected size."""
    if storage.size(key) != size:
        raise StoreConflict(
            f"storage holds {key} with {storage.size(key)} bytes, not {size}: left untouched",
            details={"key": key, "stored": storage.size(key), "expected": size},
        )
    return Stored(key=key, created=False)
