"""A real HTTP server on loopback for capture tests: media, redirects and misbehaving sources."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

Route = Callable[[BaseHTTPRequestHandler], None]


def image_bytes(fmt: str, colour: tuple[int, int, int] = (120, 90, 40)) -> bytes:
    """Return a small real image in a format Pillow writes (JPEG, PNG)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format=fmt)
    return out.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


def send(
    handler: BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/octet-stream",
    length: int | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with a body; `length` overrides the Content-Length sent (to lie)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(handler: BaseHTTPRequestHandler, location: str, status: int = 302) -> None:
    send(handler, b"", status=status, headers={"Location": location})


@dataclass
class Loopback:
    """A running server: its base URL, its routes, and the requests it received."""

    base: str
    routes: dict[str, Route]
    requests: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def default_routes(cap: int) -> dict[str, Route]:
    """Return the routes every capture test can use; `cap` is the size limit the tests set."""

    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        send(h, JPEG, content_type="image/jpeg")

    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)

    def chunked_huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "video/mp4")
        h.end_headers()  # no length: the body ends when the connection closes
        for _ in range(cap // 1000 + 10):
            h.wfile.write(b"\0" * 1000)

    return {
        "/photo.jpg": lambda h: send(h, JPEG, content_type="image/jpeg"),
        "/photo.png": lambda h: send(h, PNG, content_type="image/png"),
        "/copy.jpg": lambda h: send(h, JPEG, content_type="image/jpeg"),
        "/r/1": lambda h: redirect(h, "/r/2", 301),
        "/r/2": lambda h: redirect(h, "/r/3", 307),
        "/r/3": lambda h: redirect(h, "/photo.jpg", 302),
        "/loop": lambda h: redirect(h, "/loop"),
        "/missing": lambda h: send(h, b"not here", status=404, content_type="text/plain"),
        "/gone": lambda h: send(h, b"deleted", status=410, content_type="text/plain"),
        "/error": lambda h: send(h, b"oops", status=500, content_type="text/plain"),
        "/slow": slow,
        "/trickle": trickle,
        "/claims-more": lambda h: send(h, JPEG[:500], length=1000, content_type="image/jpeg"),
        "/claims-less": lambda h: send(h, JPEG, length=100, content_type="image/jpeg"),
        "/huge-declared": lambda h: send(h, b"\0" * 10, length=cap + 1),
        "/huge-chunked": chunked_huge,
        "/to-metadata": lambda h: redirect(h, "http://169.254.169.254/latest/meta-data/"),
        "/to-private": lambda h: redirect(h, "http://10.0.0.1/photo.jpg"),
        "/to-decimal": lambda h: redirect(h, "http://2130706433/photo.jpg"),
        "/to-ftp": lambda h: redirect(h, "ftp://example.org/photo.jpg"),
    }


@contextmanager
def loopback_server(cap: int) -> Iterator[Loopback]:
    """Run the server on 127.0.0.1 in a thread for the duration of the block."""
    server_ref: list[Loopback] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            loopback = server_ref[0]
            loopback.requests.append(
                {"path": self.path, "host": self.headers.get("Host", ""), **dict(self.headers)}
            )
            route = loopback.routes.get(self.path.partition("?")[0])
            if route is None:
                send(self, b"no route", status=404, content_type="text/plain")
                return
            # The client stops reading on some routes, as it should.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    server_ref.append(Loopback(base=f"http://{host!s}:{port}", routes=default_routes(cap)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server_ref[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
