"""Scratch space for capture work, under the data directory, that a dead worker cannot leak.

Each workspace is a directory named after the host and process that made it. It is removed when
the work ends; a worker killed mid-capture leaves it behind, and the next worker to start on the
same host removes every workspace whose process is gone. Temporary objects a killed store step
left in storage (`captures/incoming/`) are removed once older than a capture job's lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from attrition import config
from attrition.capture.steps import store

log = logging.getLogger(__name__)

PREFIX = "capture"


def root() -> Path:
    """Return the directory that holds every workspace."""
    path = Path(settings.DATA_DIR) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def workspace(purpose: str) -> Iterator[Path]:
    """Yield a fresh private directory for one piece of capture work, removed afterwards."""
    host = socket.gethostname().replace("-", "_")
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{host}-{os.getpid()}-{purpose}-", dir=root()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def owner_of(path: Path) -> tuple[str, int] | None:
    """Return the (host, pid) a workspace's name records, or None if it is not one."""
    parts = path.name.split("-")
    if len(parts) < 4 or parts[0] != PREFIX or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def workspaces_sweep() -> list[Path]:
    """Remove the workspaces that dead processes on this host left; return them."""
    from attrition.capture.services import pid_alive

    host = socket.gethostname().replace("-", "_")
    removed = []
    for path in root().iterdir():
        owner = owner_of(path)
        if owner is None or owner[0] != host or owner[1] == os.getpid() or pid_alive(owner[1]):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        log.info("capture: removed %d workspace(s) left by stopped workers", len(removed))
    return removed


def incoming_sweep(*, storage: Storage | None = None, now: dt.datetime | None = None) -> list[str]:
    """Remove temporary objects in storage older than a job's lease; return their keys."""
    storage = storage or default_storage
    folder = f"{store.PREFIX}/incoming"
    if not storage.exists(folder):
        return []
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=config.CAPTURE_LEASE_S.read())
    removed = []
    for name in storage.listdir(folder)[1]:
        key = f"{folder}/{name}"
        if name.endswith(".part") and storage.get_modified_time(key) < cutoff:
            storage.delete(key)
            removed.append(key)
    return removed
