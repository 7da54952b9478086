"""Counts of answered HTTP requests by status class, summed over every web process of a machine.

Each web process (gunicorn runs several) counts in memory and writes its totals, at most once a
second, to `<data dir>/metrics/requests-<pid>.json`; `/metrics` adds up every file. A process
that finds a file of its pid left by a dead predecessor continues from its totals, so the
counters never go down and the files stay as few as the pids in use.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
FLUSH_EVERY_S = 1.0


class RequestCounts:
    """This process's request counts, written to a file the other processes read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.pid = -1
        self.flushed_at = 0.0

    @property
    def path(self) -> Path:
        return self.folder / f"requests-{os.getpid()}.json"

    def start(self) -> None:
        """Begin counting in this process (again after a fork), from its pid's file if any."""
        self.pid = os.getpid()
        self.counts = Counter(read(self.path))
        self.flushed_at = 0.0

    def add(self, status: int) -> None:
        """Count one answered request."""
        with self.lock:
            if self.pid != os.getpid():
                self.start()
            self.counts[f"{min(max(status // 100, 1), 5)}xx"] += 1
            if time.monotonic() - self.flushed_at >= FLUSH_EVERY_S:
                self.flush()

    def flush(self) -> None:
        """Write this process's totals (atomically: readers never see half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".requests-", dir=self.folder)
        with os.fdopen(fd, "w") as out:
            json.dump(dict(self.counts), out)
        os.replace(tmp, self.path)
        self.flushed_at = time.monotonic()

    def totals(self) -> dict[str, int]:
        """Return the counts of every process on this machine, this one's up to the moment."""
        with self.lock:
            if self.pid != os.getpid():
                self.start()
            total: Counter[str] = Counter()
            for path in sorted(self.folder.glob("requests-*.json")):
                if path != self.path:
                    total.update(read(path))
            total.update(self.counts)
        return {name: total.get(name, 0) for name in CLASSES}


def read(path: Path) -> dict[str, int]:
    """Return the counts in one process's file (none if it is missing or unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in CLASSES and isinstance(v, int) and v >= 0}


COUNTS = RequestCounts(Path(settings.DATA_DIR) / "metrics")


class RequestCountMiddleware:
    """Count every answered request by the class of its status (2xx, 3xx, 4xx, 5xx)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except BaseException:
            COUNTS.add(500)
            raise
        COUNTS.add(response.status_code)
        return response
