"""Writes for captures: record a fetched file as a capture of a piece of evidence, with custody."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from attrition.capture.steps import store
from attrition.capture.steps.http_fetch import Fetched
from attrition.capture.tools import tool_versions
from attrition.evidence.models import Capture, CustodyRecord, Evidence


def kind_for(mime: str) -> str:
    """Return the capture kind a media type suggests (until the enrich step sniffs the bytes)."""
    major = mime.partition("/")[0]
    if major == "image":
        return Capture.Kind.IMAGE
    if major == "video":
        return Capture.Kind.VIDEO
    if mime in {"text/html", "application/xhtml+xml"}:
        return Capture.Kind.PAGE
    return Capture.Kind.OTHER


def capture_record(
    *, evidence: Evidence, fetched: Fetched, by: Any = None, method: str = CustodyRecord.Method.HTTP
) -> Capture:
    """Store fetched bytes and return their capture (reused for the same SHA-256), with custody.

    The original is in storage under its final key before the transaction starts, so no record
    ever points at a missing file; the temporary file is removed afterwards.
    """
    stored = store.run(path=fetched.path, sha256=fetched.sha256, size=fetched.size)
    mime = fetched.headers.get("content-type", "").partition(";")[0].strip().lower()
    with transaction.atomic():
        capture, _ = Capture.objects.get_or_create(
            sha256=fetched.sha256,
            defaults={
                "kind": kind_for(mime),
                "storage_key": stored.key,
                "mime": mime or "application/octet-stream",
                "size_bytes": fetched.size,
            },
        )
        CustodyRecord.objects.create(
            evidence=evidence,
            capture=capture,
            method=method,
            collected_by=by if getattr(by, "is_authenticated", False) else None,
            collected_at=fetched.collected_at,
            source_url=fetched.source_url,
            http_status=fetched.status,
            http_headers={
                "final_url": fetched.final_url,
                "redirect_chain": [
                    {"url": hop.url, "status": hop.status, "location": hop.location}
                    for hop in fetched.chain
                ],
                "address": fetched.address,
                "headers": fetched.headers,
            },
            tool_versions=tool_versions(),
        )
    fetched.discard()
    return capture
