"""Writes to the evidence ledger: evidence records (captures come from the capture pipeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from attrition import history
from attrition.errors import InvalidInput
from attrition.evidence import urls
from attrition.evidence.models import Evidence, Platform
from attrition.history import ChangeKind

MAX_URL_LENGTH = 2000

# Host suffix -> platform; the first match wins.
PLATFORM_HOSTS: list[tuple[str, str]] = [
    ("t.me", Platform.TELEGRAM),
    ("telegram.org", Platform.TELEGRAM),
    ("twitter.com", Platform.X),
    ("x.com", Platform.X),
    ("youtube.com", Platform.YOUTUBE),
    ("youtu.be", Platform.YOUTUBE),
    ("facebook.com", Platform.FACEBOOK),
    ("instagram.com", Platform.INSTAGRAM),
    ("tiktok.com", Platform.TIKTOK),
    ("postimg.cc", Platform.IMAGE_HOST),
    ("imgur.com", Platform.IMAGE_HOST),
    ("imgbox.com", Platform.IMAGE_HOST),
]


def url_check(url: str) -> str:
    """Return the URL trimmed, or raise InvalidInput if it is not an absolute http(s) URL."""
    url = url.strip()
    if not url:
        raise InvalidInput("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # both raise on a malformed host or port
    except ValueError as exc:
        raise InvalidInput(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInput(f"{url!r} is not an http(s) URL")
    if not host:
        raise InvalidInput(f"{url!r} has no host")
    return url


def url_canonical(url: str) -> str:
    """Return the form of a URL under which evidence is kept once (see `evidence.urls`)."""
    return urls.url_canonical(url_check(url))


def platform_for(url: str) -> str:
    """Return the platform a URL belongs to, judged by its host."""
    host = (urlsplit(url).hostname or "").lower()
    for suffix, platform in PLATFORM_HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return platform
    return Platform.WEB


def evidence_create(
    *,
    url: str,
    by: Any = None,
    platform: str | None = None,
    channel: str = "",
    title: str = "",
    description: str = "",
    posted_at: dt.datetime | None = None,
    is_sample: bool = False,
    via: str = "",
) -> Evidence:
    """Create evidence for a URL, or return the existing record for the same canonical URL."""
    canonical = url_canonical(url)
    existing = Evidence.objects.filter(canonical_url=canonical).first()
    if existing is not None:
        return existing
    evidence = Evidence(
        canonical_url=canonical,
        original_url=url.strip(),
        platform=platform or platform_for(canonical),
        channel=channel,
        title=title,
        description=description,
        posted_at=posted_at,
        is_sample=is_sample,
        added_by=by if getattr(by, "is_authenticated", False) else None,
    )
    if evidence.platform not in Platform.values:
        raise InvalidInput(f"{evidence.platform!r} is not a platform")
    try:
        with transaction.atomic():
            evidence.save()
            history.record_version(evidence, by=by, kind=ChangeKind.CREATE, via=via)
    except IntegrityError:
        # Someone saved the same canonical URL between our look-up and our insert: theirs stands.
        existing = Evidence.objects.filter(canonical_url=canonical).first()
        if existing is None:
            raise
        return existing
    return evidence
