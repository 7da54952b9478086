"""A backup on disk: a directory or a zip file of named members, written and read as streams.

Members are copied in 1 MiB chunks and hashed on the way, so memory stays the same whatever the
size of a file. A backup is written under a temporary name and only renamed into place once it
is complete: a path named as a backup is never a partial one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from attrition.errors import AttritionError

CHUNK = 1024 * 1024


class BackupInvalid(AttritionError):
    """A backup that is unreadable, incomplete or altered; nothing was restored from it."""

    code = "backup_invalid"


def name_check(name: object) -> str:
    """Return a member name if it is a plain relative path, or raise BackupInvalid."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise BackupInvalid(f"the backup names a file {name!r}, which is not a relative path")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or any(p in {"", ".", ".."} for p in parts) or "//" in name:
        raise BackupInvalid(f"the backup names a file {name!r}, which is not a relative path")
    return name


def copy_hashed(reader: IO[bytes], writer: IO[bytes] | None) -> tuple[int, str]:
    """Copy a stream (or only read it, without a writer); return its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    while chunk := reader.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if writer is not None:
            writer.write(chunk)
    return size, digest.hexdigest()


class Sink:
    """A backup being written: members are added one at a time, then it is finished or dropped."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.part = final.with_name(f".{final.name}.part")

    def member(self, name: str, *, compress: bool = True) -> AbstractContextManager[IO[bytes]]:
        """Return a context that gives a stream to write the member `name` into."""
        raise NotImplementedError

    def finish(self) -> None:
        """Give the complete backup its name."""
        os.replace(self.part, self.final)

    def drop(self) -> None:
        """Remove what was written of an incomplete backup."""
        if self.part.is_dir():
            shutil.rmtree(self.part, ignore_errors=True)
        else:
            self.part.unlink(missing_ok=True)


class DirectorySink(Sink):
    """A backup written as a directory of plain files."""

    def __init__(self, final: Path) -> None:
        super().__init__(final)
        self.part.mkdir()

    @contextmanager
    def member(self, name: str, *, compress: bool = True) -> Iterator[IO[bytes]]:
        path = self.part / name_check(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:
            yield out


class ZipSink(Sink):
    """A backup written as one zip file (ZIP64, so members and the whole may exceed 4 GiB)."""

    def __init__(self, final: Path) -> None:
        super().__init__(final)
        self.zip = zipfile.ZipFile(self.part, "x", allowZip64=True)

    @contextmanager
    def member(self, name: str, *, compress: bool = True) -> Iterator[IO[bytes]]:
        now = dt.datetime.now(dt.UTC).timetuple()[:6]
        info = zipfile.ZipInfo(name_check(name), date_time=now)
        # Media is mostly compressed already (JPEG, MP4): storing it as it is costs no space.
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        with self.zip.open(info, "w", force_zip64=True) as out:
            yield out

    def finish(self) -> None:
        self.zip.close()
        super().finish()

    def drop(self) -> None:
        self.zip.close()
        super().drop()


def sink_open(output: Path) -> Sink:
    """Start writing a backup at `output`: a zip file if it ends in .zip, else a directory."""
    if output.exists() or output.is_symlink():
        raise AttritionError(f"{output} exists already: name a new file or directory")
    if not output.parent.is_dir():
        raise AttritionError(f"cannot write {output}: the directory {output.parent} does not exist")
    if output.with_name(f".{output.name}.part").exists():
        raise AttritionError(
            f"{output.with_name(f'.{output.name}.part')} exists: another backup to {output} is "
            "running, or one was interrupted (remove it)"
        )
    return ZipSink(output) if output.suffix.lower() == ".zip" else DirectorySink(output)


class Source:
    """A backup being read."""

    def names(self) -> set[str]:
        """Return the name of every member."""
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        """Return a stream of the member `name`, or raise BackupInvalid if it is missing."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the backup."""


class DirectorySource(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> set[str]:
        return {
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() or path.is_symlink()
        }

    def open(self, name: str) -> IO[bytes]:
        path = self.root / name_check(name)
        if path.is_symlink() or not path.is_file():
            raise BackupInvalid(f"the backup has no file {name}: it is incomplete")
        return path.open("rb")


class ZipSource(Source):
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BackupInvalid(f"{path} is not a readable zip file ({exc})") from None

    def names(self) -> set[str]:
        return {info.filename for info in self.zip.infolist() if not info.is_dir()}

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(name_check(name))
        except KeyError:
            raise BackupInvalid(f"the backup has no file {name}: it is incomplete") from None

    def close(self) -> None:
        self.zip.close()


def source_open(path: Path) -> Source:
    """Open a backup (a directory or a zip file) for reading."""
    if path.is_dir():
        return DirectorySource(path)
    if path.is_file():
        return ZipSource(path)
    raise AttritionError(f"there is no backup at {path}")
