"""Step 3, http_fetch: download a direct media URL to a temporary file, hashing it on the way.

Every hop of the redirect chain goes through the SSRF guard, and the connection is made to the
address the guard vetted (with the URL's host in the Host header and in TLS's SNI and
certificate check), so a second DNS answer can never point the fetch somewhere internal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.response import BaseHTTPResponse

from attrition import config
from attrition.capture.errors import (
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    LengthMismatch,
    SourceGone,
)
from attrition.capture.guard import Network, Target, url_vet
from attrition.capture.tools import user_agent

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Response headers worth keeping in the custody record (the rest is noise or cookies).
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "content-disposition",
    "content-encoding",
    "last-modified",
    "etag",
    "date",
    "server",
    "cache-control",
    "age",
    "expires",
    "x-cache",
    "cf-cache-status",
)
CHUNK = 64 * 1024
# Once the promised bytes are in, how long to wait for any the server sends beyond them.
TRAILING_WAIT_S = 0.5


@dataclass(frozen=True)
class Limits:
    """How much and how long a fetch may take."""

    max_bytes: int
    total_s: float
    connect_s: float = 10.0
    read_s: float = 30.0
    max_redirects: int = 10

    @classmethod
    def from_settings(cls) -> Limits:
        """Return the limits set by ATTRITION_FETCH_MAX_BYTES and ATTRITION_FETCH_TIMEOUT_S."""
        return cls(max_bytes=config.FETCH_MAX_BYTES.read(), total_s=config.FETCH_TIMEOUT_S.read())


@dataclass(frozen=True)
class Hop:
    """One redirect: the URL asked for, its status, and where it sent the fetch."""

    url: str
    status: int
    location: str


@dataclass(frozen=True)
class Fetched:
    """What a fetch received: the bytes (in a temporary file) and how they were obtained."""

    source_url: str
    final_url: str
    chain: tuple[Hop, ...]
    status: int
    headers: dict[str, str]
    path: Path
    sha256: str
    size: int
    collected_at: dt.datetime
    address: str

    def discard(self) -> None:
        """Remove the temporary file (after it has been stored, or on failure)."""
        self.path.unlink(missing_ok=True)


def run(
    url: str,
    *,
    limits: Limits | None = None,
    allow: Sequence[Network] | None = None,
    tmp_dir: Path | None = None,
) -> Fetched:
    """Return the fetched file of a URL, following redirects, or raise a CaptureError."""
    limits = limits or Limits.from_settings()
    deadline = time.monotonic() + limits.total_s
    chain: list[Hop] = []
    current = url
    while True:
        target = url_vet(current, allow=allow)
        response = request(target, limits)
        location = response.headers.get("location")
        if response.status not in REDIRECTS or not location:
            break
        response.release_conn()
        response.close()
        following = urljoin(current, location.strip())
        chain.append(Hop(url=current, status=response.status, location=following))
        if len(chain) > limits.max_redirects:
            raise FetchFailed(
                f"more than {limits.max_redirects} redirects from {url}",
                details={"url": url, "chain": [hop.url for hop in chain]},
            )
        current = following
    try:
        return receive(
            response,
            source_url=url,
            target=target,
            chain=tuple(chain),
            limits=limits,
            deadline=deadline,
            tmp_dir=tmp_dir,
        )
    finally:
        response.close()


def pool_for(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    """Return a one-connection pool to a vetted target's vetted address (TLS checked by name).

    Connecting to the address the guard vetted, never to the name again, is what keeps a DNS
    answer that changes between the check and the connection from reaching a private address.
    """
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(target.address),
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        str(target.address), target.port, timeout=timeout, retries=False, maxsize=1
    )


def request(target: Target, limits: Limits) -> BaseHTTPResponse:
    """Send the GET for a vetted target, connecting to its vetted address; return the response."""
    pool = pool_for(target, urllib3.Timeout(connect=limits.connect_s, read=limits.read_s))
    headers = {
        "Host": target.host_header,
        "User-Agent": user_agent(),
        "Accept": "*/*",
        # The bytes as the server keeps them: a decoded copy would not be the original.
        "Accept-Encoding": "identity",
        # The server closes the connection after the body, so that extra bytes are seen.
        "Connection": "close",
    }
    try:
        request_uri = urllib3.util.parse_url(target.url).request_uri
        return pool.urlopen(
            "GET",
            request_uri,
            headers=headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
            enforce_content_length=False,
        )
    except (HTTPError, LocationParseError) as exc:
        raise network_error(exc, target.url) from None


def network_error(exc: Exception, url: str) -> FetchFailed:
    """Return the capture error for an exception urllib3 raised while fetching `url`."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    details = {"url": url, "reason": str(exc)}
    # In urllib3 2 a refused connection (NewConnectionError) is a kind of ConnectTimeoutError.
    if isinstance(exc, NewConnectionError):
        return FetchFailed(f"could not connect to {url}: {exc}", details=details)
    if isinstance(exc, ConnectTimeoutError):
        return FetchTimeout(f"timed out connecting to {url}", details=details)
    if isinstance(exc, ReadTimeoutError):
        return FetchTimeout(f"timed out waiting for {url}", details=details)
    return FetchFailed(f"could not fetch {url}: {exc}", details=details)


def receive(
    response: BaseHTTPResponse,
    *,
    source_url: str,
    target: Target,
    chain: tuple[Hop, ...],
    limits: Limits,
    deadline: float,
    tmp_dir: Path | None,
) -> Fetched:
    """Stream a final response's body to a temporary file; return what was fetched."""
    url = target.url
    status = response.status
    if status in (404, 410):
        raise SourceGone(
            f"{url} answered {status}: the source is gone", details={"url": url, "status": status}
        )
    if not 200 <= status < 300:
        raise FetchFailed(
            f"{url} answered {status}, not a file", details={"url": url, "status": status}
        )
    declared = declared_length(response, url)
    if declared is not None and declared > limits.max_bytes:
        raise FetchTooLarge(
            f"{url} is {declared} bytes, more than the limit of {limits.max_bytes}",
            details={"url": url, "size": declared, "limit": limits.max_bytes},
        )
    # Read to the end of the connection, not to Content-Length, to see a server that lies.
    raw = getattr(response, "_fp", None)
    if isinstance(raw, http.client.HTTPResponse):
        raw.length = None
    response.length_remaining = None

    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="fetch-", suffix=".part", dir=tmp_dir)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            sha256, size = stream(
                response, out, declared=declared, limits=limits, deadline=deadline, url=url
            )
        collected_at = dt.datetime.now(dt.UTC)
        if declared is not None and size != declared:
            raise LengthMismatch(
                f"{url} said Content-Length {declared} but sent {size} bytes",
                details={"url": url, "declared": declared, "received": size},
            )
        if time.monotonic() > deadline:
            raise FetchTimeout(f"{url} took longer than {limits.total_s} s", details={"url": url})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Fetched(
        source_url=source_url,
        final_url=url,
        chain=chain,
        status=status,
        headers={k: response.headers[k] for k in KEPT_HEADERS if k in response.headers},
        path=path,
        sha256=sha256,
        size=size,
        collected_at=collected_at,
        address=str(target.address),
    )


def declared_length(response: BaseHTTPResponse, url: str) -> int | None:
    """Return the body length the response declares, or None if it declares none."""
    if "transfer-encoding" in response.headers:
        return None
    value = response.headers.get("content-length")
    if value is None:
        return None
    try:
        lengths = {int(v.strip()) for v in value.split(",")}
    except ValueError:
        lengths = set()
    if len(lengths) != 1 or min(lengths) < 0:
        raise FetchFailed(f"{url} sent an invalid Content-Length: {value!r}", details={"url": url})
    return lengths.pop()


def stream(
    response: BaseHTTPResponse,
    out: IO[bytes],
    *,
    declared: int | None,
    limits: Limits,
    deadline: float,
    url: str,
) -> tuple[str, int]:
    """Copy the body to `out` within the limits; return its SHA-256 (hex) and size."""
    digest = hashlib.sha256()
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchTimeout(f"{url} took longer than {limits.total_s} s", details={"url": url})
        if declared is not None and size >= declared:
            trailing_wait(response)
        try:
            chunk = response.read1(CHUNK)
        except ReadTimeoutError:
            if declared is not None and size == declared:
                break  # everything promised came, and nothing more
            raise FetchTimeout(f"timed out reading {url}", details={"url": url}) from None
        except HTTPError as exc:
            raise network_error(exc, url) from None
        if not chunk:
            break
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchTooLarge(
                f"{url} is larger than the limit of {limits.max_bytes} bytes",
                details={"url": url, "limit": limits.max_bytes},
            )
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def trailing_wait(response: BaseHTTPResponse) -> None:
    """Shorten the read timeout once the declared body is in: only a lying server sends more."""
    sock = getattr(response.connection, "sock", None)
    if sock is not None:
        sock.settimeout(TRAILING_WAIT_S)
