"""The WarSpotting API client: guarded JSON GETs, paced under the API's rate limit, retried.

Every request goes through the capture SSRF guard (`capture.guard.url_vet`) and connects to the
address the guard vetted, so the client can reach no internal address unless
ATTRITION_FETCH_ALLOW (or the `allow` a test gives) lets it. It names itself in its User-Agent,
never sends more requests in any window than the rate allows, waits as long as a 429's
Retry-After asks, backs off on 5xx answers and network errors, and gives up after a bounded
number of attempts with an error that says why.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError, LocationParseError

from attrition import config
from attrition.capture.errors import FetchFailed, FetchRefused
from attrition.capture.guard import Network, Target, url_vet
from attrition.capture.steps.http_fetch import REDIRECTS, network_error, pool_for
from attrition.capture.tools import version_of
from attrition.errors import AttritionError

PAGE_SIZE = 100  # records per page of WarSpotting's API; a shorter page is the day's last
MAX_PAGES = 200  # pages of one day before the client suspects a server that never ends
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
RATE = re.compile(r"^(?P<n>[1-9][0-9]*)/(?P<k>[0-9]*)(?P<unit>sec|s|min|m|hour|h|day|d)$")
UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


class SyncFailed(AttritionError):
    """WarSpotting could not be read (refused, unreachable, or not its format); nothing written."""

    code = "sync_failed"
    status = 502


@dataclass(frozen=True)
class Rate:
    """At most `requests` requests in any `per_s` seconds."""

    requests: int
    per_s: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Return the rate written as requests/period, e.g. 10/10s or 60/min."""
        match = RATE.match(text.strip())
        if match is None or (match["k"] and int(match["k"]) < 1):
            raise SyncFailed(f"{text!r} is not a rate such as 10/10s or 60/min")
        return cls(int(match["n"]), int(match["k"] or 1) * UNIT_S[match["unit"]])


class RateLimit:
    """Spaces requests so that no window of `per_s` seconds holds more than `requests` of them.

    A plain token bucket lets a full bucket's burst and the next window's refill land within one
    window (up to twice the rate); here each request's slot only comes back `per_s` seconds after
    it was used, plus a small margin for the time a request takes to reach the server.
    """

    def __init__(self, rate: Rate, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.window = rate.per_s * 1.02 + 0.05
        self.sent: deque[float] = deque()
        self.sleep = sleep

    def wait(self) -> None:
        """Return once another request may be sent, and count it as sent."""
        if len(self.sent) >= self.rate.requests:
            free_at = self.sent.popleft() + self.window
            delay = free_at - time.monotonic()
            if delay > 0:
                self.sleep(delay)
        self.sent.append(time.monotonic())


def user_agent(contact: str | None = None) -> str:
    """Return the User-Agent the sync sends: product, version, and who runs this instance."""
    contact = config.WARSPOTTING_CONTACT.read() if contact is None else contact
    site = config.SITE_NAME.read()
    who = f"+{contact}" if contact else f"instance {site!r}, no contact set"
    return f"attrition/{version_of('attrition')} (WarSpotting sync; {who})"


@dataclass(frozen=True)
class Answer:
    """What the server answered to one GET."""

    status: int
    headers: dict[str, str]
    body: bytes


class Client:
    """Reads WarSpotting's API under its base URL (e.g. https://ukr.warspotting.net/api)."""

    def __init__(
        self,
        *,
        base_url: str,
        rate: Rate | None = None,
        allow: Sequence[Network] | None = None,
        max_attempts: int = 5,
        backoff_s: float = 2.0,
        max_wait_s: float = 300.0,
        timeout_s: float = 30.0,
        page_size: int = PAGE_SIZE,
        contact: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limit = RateLimit(rate or Rate.parse(config.WARSPOTTING_RATE.read()))
        self.allow = allow
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self.page_size = page_size
        self.user_agent = user_agent(contact)
        self.requests = 0

    def day(self, day: dt.date, *, feed: str = "russia") -> list[Any]:
        """Return every record the API lists for one day, page after page."""
        records: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            url = f"{self.base_url}/losses/{feed}/{day.isoformat()}/{page}/"
            document = self.get_json(url)
            losses = document.get("losses") if isinstance(document, dict) else None
            if not isinstance(losses, list):
                raise SyncFailed(
                    f'{url} is JSON but not WarSpotting\'s format: no "losses" list',
                    details={"url": url},
                )
            records += losses
            if len(losses) < self.page_size:
                return records
        raise SyncFailed(
            f"{day} has more than {MAX_PAGES} pages: stopped", details={"day": str(day)}
        )

    def get_json(self, url: str) -> Any:
        """Return the decoded JSON of a URL, retrying what may pass, or raise SyncFailed."""
        why = ""
        for attempt in range(1, self.max_attempts + 1):
            self.limit.wait()
            self.requests += 1
            try:
                answer = self.get(url)
            except FetchRefused as exc:
                raise SyncFailed(exc.message, details=exc.details) from None
            except FetchFailed as exc:
                why, wait = exc.message, self._backoff(attempt)
            else:
                if answer.status == 200:
                    return _json(url, answer.body)
                if answer.status == 429:
                    why = f"{url} answered 429 Too Many Requests"
                    wait = _retry_after(answer.headers) or self._backoff(attempt)
                elif answer.status >= 500:
                    why, wait = f"{url} answered {answer.status}", self._backoff(attempt)
                else:
                    raise SyncFailed(
                        f"{url} answered {answer.status}: is the base URL right?",
                        details={"url": url, "status": answer.status},
                    )
            if attempt == self.max_attempts:
                break
            if wait > self.max_wait_s:
                raise SyncFailed(
                    f"{why}, and asks to wait {wait:.0f} s, longer than this sync waits "
                    f"({self.max_wait_s:.0f} s): try again later",
                    details={"url": url},
                )
            time.sleep(wait)
        raise SyncFailed(
            f"gave up after {self.max_attempts} attempts: {why}",
            details={"url": url, "attempts": self.max_attempts},
        )

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.max_wait_s))

    def get(self, url: str) -> Answer:
        """Return the server's answer to a GET of a URL, every redirect hop vetted by the guard."""
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            target = url_vet(current, allow=self.allow)
            response = self._request(target)
            try:
                location = response.headers.get("location")
                if response.status in REDIRECTS and location:
                    current = urljoin(current, location.strip())
                    continue
                return Answer(response.status, dict(response.headers), _body(response, current))
            finally:
                response.release_conn()
                response.close()
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects from {url}", details={"url": url})

    def _request(self, target: Target) -> Any:
        timeout = urllib3.Timeout(connect=min(10.0, self.timeout_s), read=self.timeout_s)
        pool = pool_for(target, timeout)
        headers = {
            "Host": target.host_header,
            "User-Agent": self.user_agent,
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
            "Connection": "close",
        }
        try:
            return pool.urlopen(
                "GET",
                urllib3.util.parse_url(target.url).request_uri,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
            )
        except (HTTPError, LocationParseError) as exc:
            raise network_error(exc, target.url) from None


def _body(response: Any, url: str) -> bytes:
    """Return the (decoded) body, refusing one larger than MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read(CHUNK):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise FetchFailed(
                    f"{url} sent more than {MAX_BODY_BYTES} bytes", details={"url": url}
                )
            chunks.append(chunk)
    except HTTPError as exc:
        raise network_error(exc, url) from None
    return b"".join(chunks)


def _json(url: str, body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SyncFailed(f"{url} sent a body that is not UTF-8", details={"url": url}) from None
    except json.JSONDecodeError as exc:
        raise SyncFailed(
            f"{url} sent malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            details={"url": url},
        ) from None


def _retry_after(headers: dict[str, str]) -> float | None:
    """Return the seconds a Retry-After header asks for (in seconds or as an HTTP date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
