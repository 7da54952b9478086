"""The media storage as a list of files, whichever storage holds them (file system or S3)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from django.core.files.storage import Storage

# Partial uploads of captures still running: never referenced by a record, swept by workers.
SKIPPED = ("captures/incoming/",)


def storage_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Yield the name of every file in the storage, sorted, folder by folder."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        path = posixpath.join(folder, name) if folder else name
        if not path.startswith(SKIPPED):
            yield path
    for sub in sorted(folders):
        yield from storage_names(storage, posixpath.join(folder, sub) if folder else sub)


def storage_first(storage: Storage) -> str | None:
    """Return the name of some file in the storage, or None if it holds none."""
    return next(iter(storage_names(storage)), None)
