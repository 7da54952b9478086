"""The one way yt-dlp reaches the network: a request handler that puts every hop through the guard.

yt-dlp sends each request (the page, its API calls, the media, each fragment) through a request
director. The director of `GuardedYoutubeDL` holds `GuardedRH` and nothing else: it vets every URL
of every redirect hop with `url_vet` and connects to the address the guard vetted, never resolving
the name a second time, so neither a redirect nor a second DNS answer can point yt-dlp at an
internal address. Proxies are not supported, so a proxy cannot hide where a connection goes.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.response import BaseHTTPResponse
from yt_dlp import YoutubeDL
from yt_dlp.networking import Request, RequestHandler, Response
from yt_dlp.networking.exceptions import HTTPError as YtHTTPError
from yt_dlp.networking.exceptions import RequestError, TransportError

from attrition.capture.errors import (
    CaptureError,
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
)
from attrition.capture.guard import Network, Target, url_vet
from attrition.capture.steps.http_fetch import Limits

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
ERROR_BODY_MAX = 256 * 1024


# Not a TransportError, so yt-dlp neither retries it nor lets an extractor shrug it off as an
# optional request that failed: it leaves `YoutubeDL.extract_info` as it is.
class CaptureStop(RequestError):
    """A capture error that ends the run at once (refused address, too large, out of time)."""

    def __init__(self, error: CaptureError) -> None:
        super().__init__(str(error), cause=error)
        self.error = error


@dataclass
class Gate:
    """What yt-dlp's requests must pass (allow-list, limits, deadline), and what they did."""

    allow: Sequence[Network]
    limits: Limits
    deadline: float
    requests: list[str] = field(default_factory=list)
    failures: list[CaptureError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    finished_at: dt.datetime | None = None

    def stop(self, error: CaptureError) -> CaptureStop:
        """Return the exception that ends the run with `error`, recording it."""
        self.failures.append(error)
        return CaptureStop(error)

    def transport(self, error: CaptureError) -> TransportError:
        """Return a network error yt-dlp may handle (an optional request), recording the cause."""
        self.failures.append(error)
        return TransportError(str(error), cause=error)

    def time_check(self, url: str) -> None:
        """Raise CaptureStop once the run has used up its total time."""
        if time.monotonic() > self.deadline:
            raise self.stop(
                FetchTimeout(
                    f"yt-dlp took longer than {self.limits.total_s} s (at {url})",
                    details={"url": url, "limit_s": self.limits.total_s},
                )
            )

    def progress(self, status: dict[str, Any]) -> None:
        """Stop a download that outgrows the size limit or the time; note when it finished."""
        received = status.get("downloaded_bytes") or 0
        if received > self.limits.max_bytes:
            raise self.stop(
                FetchTooLarge(
                    f"the video is larger than the limit of {self.limits.max_bytes} bytes",
                    details={"limit": self.limits.max_bytes, "received": received},
                )
            )
        self.time_check(str(status.get("info_dict", {}).get("webpage_url", "")))
        if status.get("status") == "finished":
            self.finished_at = dt.datetime.now(dt.UTC)

    def match(self, info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        """Return why yt-dlp must skip a video (a live stream never ends), or None."""
        if info.get("is_live"):
            reason = "it is a live stream, which cannot be archived as one file"
            self.skipped.append(reason)
            return reason
        return None


class GuardedResponse(Response):
    """A response whose body is read within the run's size and time limits."""

    def __init__(self, raw: BaseHTTPResponse, *, url: str, gate: Gate) -> None:
        super().__init__(fp=raw, url=url, headers=raw.headers, status=raw.status, reason=raw.reason)
        self.raw = raw
        self.gate = gate
        self.received = 0

    def read(self, amt: int | None = None) -> bytes:
        """Return up to `amt` bytes of the body (all of it if None), within the limits."""
        if amt is None:
            return b"".join(iter(functools.partial(self.read, CHUNK), b""))
        self.gate.time_check(self.url)
        try:
            chunk = self.raw.read(amt)
        except ReadTimeoutError:
            raise self.gate.transport(
                FetchTimeout(f"timed out reading {self.url}", details={"url": self.url})
            ) from None
        except HTTPError as exc:
            raise self.gate.transport(
                FetchFailed(f"could not read {self.url}: {exc}", details={"url": self.url})
            ) from None
        self.received += len(chunk)
        if self.received > self.gate.limits.max_bytes:
            raise self.gate.stop(too_large(self.url, self.gate.limits.max_bytes))
        return chunk

    def settled(self) -> Response:
        """Return this response with its body (up to ERROR_BODY_MAX bytes) read and closed."""
        # An error response travels inside yt-dlp's HTTPError, which nobody closes: holding its
        # connection open until garbage collection would leak the socket.
        try:
            body = self.read(ERROR_BODY_MAX)
        finally:
            self.close()
        return Response(
            fp=io.BytesIO(body),
            url=self.url,
            headers=self.raw.headers,
            status=self.status,
            reason=self.reason,
        )

    def close(self) -> None:
        """Close the connection (a partly read body must never be reused) and the response."""
        self.raw.close()
        self.raw.release_conn()
        super().close()


class GuardedRH(RequestHandler):
    """yt-dlp's only request handler here: every hop vetted, connected to the vetted address."""

    # Every scheme reaches _send, where the guard refuses all but http and https.
    _SUPPORTED_URL_SCHEMES = None
    _SUPPORTED_PROXY_SCHEMES = ()
    _SUPPORTED_FEATURES = ()

    def __init__(self, *, gate: Gate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.pools: dict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = {}
        self.responses: list[GuardedResponse] = []

    def _check_extensions(self, extensions: dict[str, Any]) -> None:
        super()._check_extensions(extensions)
        for name in ("cookiejar", "timeout", "legacy_ssl", "keep_header_casing"):
            extensions.pop(name, None)

    def close(self) -> None:
        """Close every response (extractors leave some unclosed) and every connection pool."""
        for response in self.responses:
            response.close()
        self.responses.clear()
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()

    def _send(self, request: Request) -> Response:
        url, method, data = request.url, request.method, request.data
        headers = urllib3.HTTPHeaderDict(self._get_headers(request))
        headers.setdefault("Accept-Encoding", "identity")  # the bytes as the server keeps them
        cookiejar = self._get_cookiejar(request)
        timeout = self._calculate_timeout(request)
        for _hop in range(self.gate.limits.max_redirects + 1):
            raw = self.exchange(url, method, data, headers, cookiejar, timeout)
            location = raw.headers.get("location")
            if raw.status not in REDIRECTS or not location:
                response = GuardedResponse(raw, url=url, gate=self.gate)
                self.responses.append(response)
                if raw.status >= 400:
                    raise YtHTTPError(response.settled())
                return response
            raw.close()
            raw.release_conn()
            following = urljoin(url, location.strip())
            if urlsplit(following).hostname != urlsplit(url).hostname:
                headers.pop("Authorization", None)
            if redirect_method(method, raw.status) != method:
                method, data = "GET", None
                headers.pop("Content-Type", None)
                headers.pop("Content-Length", None)
            url = following
        raise self.gate.stop(
            FetchFailed(
                f"more than {self.gate.limits.max_redirects} redirects from {request.url}",
                details={"url": request.url},
            )
        )

    def exchange(
        self,
        url: str,
        method: str,
        data: Any,
        headers: urllib3.HTTPHeaderDict,
        cookiejar: Any,
        timeout: float,
    ) -> BaseHTTPResponse:
        """Send one request to the vetted address of `url`; return the response, unread."""
        self.gate.time_check(url)
        self.gate.requests.append(url)
        try:
            target = url_vet(url, allow=self.gate.allow)
        except FetchRefused as exc:
            raise self.gate.stop(exc) from None
        except FetchFailed as exc:  # the name did not resolve
            raise self.gate.transport(exc) from None
        # Only for the cookie jar's bookkeeping: the URL is vetted http(s), and nothing opens it.
        jar_request = urllib.request.Request(url, method=method)  # noqa: S310
        sent = urllib3.HTTPHeaderDict(headers)
        sent["Host"] = target.host_header
        if "Cookie" not in sent:  # an extractor's own Cookie header wins over the jar
            cookiejar.add_cookie_header(jar_request)
            if cookie := jar_request.get_header("Cookie"):
                sent["Cookie"] = cookie
        limits = self.gate.limits
        try:
            raw = self.pool(target).urlopen(
                method,
                urllib3.util.parse_url(url).request_uri,
                body=data,
                headers=sent,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=True,
                timeout=urllib3.Timeout(connect=min(limits.connect_s, timeout), read=timeout),
            )
        except (HTTPError, LocationParseError) as exc:
            raise self.gate.transport(network_error(exc, url)) from None
        cookiejar.extract_cookies(CookieResponse(raw.headers), jar_request)
        declared = raw.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raw.close()
            raw.release_conn()
            raise self.gate.stop(too_large(url, limits.max_bytes, int(declared)))
        return raw

    def pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        """Return the connection pool for a vetted target, bound to its vetted address."""
        key = (target.scheme, target.host, str(target.address), target.port)
        if key not in self.pools:
            if target.scheme == "https":
                self.pools[key] = urllib3.HTTPSConnectionPool(
                    str(target.address),
                    target.port,
                    maxsize=4,
                    retries=False,
                    cert_reqs="CERT_REQUIRED" if self.verify else "CERT_NONE",
                    server_hostname=target.host,
                    assert_hostname=target.host if self.verify else False,
                )
            else:
                self.pools[key] = urllib3.HTTPConnectionPool(
                    str(target.address), target.port, maxsize=4, retries=False
                )
        return self.pools[key]


class GuardedYoutubeDL(YoutubeDL):
    """A YoutubeDL whose every request goes through GuardedRH, with no other handler to try."""

    def __init__(self, params: dict[str, Any], *, gate: Gate) -> None:
        self.gate = gate
        super().__init__(params)

    def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
        """Return yt-dlp's request director with the guarded handler as its only handler."""
        # The one hook into yt-dlp's internals (checked against yt-dlp 2026.10.26): the
        # `_request_director` property builds the director by calling this method with every
        # registered handler (urllib, requests, curl_cffi, websockets). Replacing that list keeps
        # the other handlers, which connect wherever DNS says, out of this YoutubeDL.
        return super().build_request_director([functools.partial(GuardedRH, gate=self.gate)])


@dataclass(frozen=True)
class CookieResponse:
    """The headers of a response, as http.cookiejar reads them."""

    headers: urllib3.HTTPHeaderDict

    def info(self) -> urllib3.HTTPHeaderDict:
        """Return the headers (cookiejar calls `get_all` on them)."""
        return self.headers


def redirect_method(method: str, status: int) -> str:
    """Return the method a redirect asks for: GET after a 303, or after a 301/302 to a POST."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def network_error(exc: Exception, url: str) -> FetchFailed:
    """Return the capture error for an exception urllib3 raised while sending to `url`."""
    details = {"url": url, "reason": str(exc)}
    if isinstance(exc, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
        return FetchFailed(f"could not connect to {url}: {exc}", details=details)
    if isinstance(exc, ConnectTimeoutError):
        return FetchTimeout(f"timed out connecting to {url}", details=details)
    if isinstance(exc, ReadTimeoutError):
        return FetchTimeout(f"timed out waiting for {url}", details=details)
    return FetchFailed(f"could not fetch {url}: {exc}", details=details)


def too_large(url: str, limit: int, size: int | None = None) -> FetchTooLarge:
    """Return the error for a response larger than the limit."""
    said = f"is {size} bytes, more" if size is not None else "is larger"
    return FetchTooLarge(
        f"{url} {said} than the limit of {limit} bytes",
        details={"url": url, "limit": limit, **({"size": size} if size is not None else {})},
    )
