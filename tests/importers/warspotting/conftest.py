"""A WarSpotting API stand-in on loopback, speaking the public format, with fixtures we wrote."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attrition.catalog.models import Category, CategoryMapping, Conflict, Side
from attrition.importers.warspotting.client import Client, Rate

FIXTURES = json.loads((Path(__file__).parent / "losses.json").read_text())
REFERENCE = Path(__file__).resolve().parents[3] / "src" / "attrition" / "reference" / "data"
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
DAY_PAGE = re.compile(r"^/api/losses/(?P<feed>\w+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<page>\d+)/?$")
# Fast enough for tests that are not about the rate limit.
FAST = Rate(requests=1000, per_s=1)


@dataclass(frozen=True)
class Hit:
    """One request the server received: when (monotonic), its path and its headers."""

    at: float
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    """A scripted answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeWarSpotting:
    """The running server: its days of records, its page size, its log, its scripted answers."""

    base: str
    days: dict[str, list[dict[str, Any]]]
    page_size: int = 2
    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[Reply]] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.base + "/api"

    def client(self, **kwargs: Any) -> Client:
        """Return a client of this server: loopback allowed, its page size, a fast rate."""
        options: dict[str, Any] = {"allow": LOOPBACK, "page_size": self.page_size, "rate": FAST}
        return Client(base_url=self.api, **(options | kwargs))

    def days_asked(self) -> list[str]:
        """Return the days the client asked for, in order, each once."""
        days: list[str] = []
        for hit in self.hits:
            match = DAY_PAGE.match(hit.path)
            if match and match["day"] not in days:
                days.append(match["day"])
        return days

    def answer(self, path: str) -> Reply:
        for key in (path, "*"):
            if self.script.get(key):
                return self.script[key].pop(0)
        match = DAY_PAGE.match(path)
        if match is None:
            return Reply(404, b'{"detail": "Not found."}')
        records = self.days.get(match["day"], [])
        start = (int(match["page"]) - 1) * self.page_size
        page = records[start : start + self.page_size]
        return Reply(200, json.dumps({"losses": page}).encode())


@contextlib.contextmanager
def fake_warspotting() -> Iterator[FakeWarSpotting]:
    """Run the stand-in on 127.0.0.1 in a thread for the duration of the block."""
    days = {k: copy.deepcopy(v) for k, v in FIXTURES.items() if not k.startswith("_")}
    ref: list[FakeWarSpotting] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake = ref[0]
            fake.hits.append(Hit(time.monotonic(), self.path, dict(self.headers)))
            reply = fake.answer(self.path)
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    ref.append(FakeWarSpotting(base=f"http://{host!s}:{port}", days=days))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield ref[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def api() -> Iterator[FakeWarSpotting]:
    """A running WarSpotting stand-in."""
    with fake_warspotting() as fake:
        yield fake


@pytest.fixture
def reference(db: None) -> None:
    """The shipped conflict, categories and WarSpotting mappings (not the slower boundaries)."""
    conflict_data = json.loads((REFERENCE / "conflicts" / "russia-ukraine-2022.json").read_text())
    conflict = Conflict.objects.create(
        slug=conflict_data["slug"],
        name=conflict_data["name"],
        period_start=conflict_data["period_start"],
    )
    for side in conflict_data["sides"]:
        Side.objects.create(conflict=conflict, **side)
    categories = {c["slug"]: c for c in json.loads((REFERENCE / "categories.json").read_text())}
    for row in json.loads((REFERENCE / "category_mappings.json").read_text()):
        if row["source"] == "warspotting":
            data = categories[row.pop("category")]
            category, _ = Category.objects.get_or_create(
                slug=data["slug"], defaults={"name": data["name"], "order": data["order"]}
            )
            CategoryMapping.objects.create(category=category, **row)
