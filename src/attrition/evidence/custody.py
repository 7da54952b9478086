"""The custody log: who viewed, exported or handed over an archived original, and when."""

from __future__ import annotations

from typing import IO, Any

from django.core.files.storage import default_storage
from django.utils import timezone

from attrition.errors import Forbidden
from attrition.evidence.models import Capture, CustodyEvent


def custody_log(
    *, capture: Capture, action: str, by: Any = None, detail: dict[str, Any] | None = None
) -> CustodyEvent:
    """Append one entry to a capture's custody log (entries are never changed or removed)."""
    return CustodyEvent.objects.create(
        capture=capture,
        action=action,
        actor=by if getattr(by, "is_authenticated", False) else None,
        at=timezone.now(),
        detail=detail or {},
    )


def may_export(user: Any, capture: Capture) -> bool:
    """Return whether a user may download an original: reviewers, admins, or who collected it."""
    if getattr(user, "is_reviewer", False) or getattr(user, "is_superuser", False):
        return True
    return bool(
        getattr(user, "is_authenticated", False)
        and capture.custody.filter(collected_by=user).exists()
    )


def original_export(*, capture: Capture, by: Any, via: str = "") -> IO[bytes]:
    """Open an original for download by someone allowed to, logging it as exported."""
    if not may_export(by, capture):
        raise Forbidden("only reviewers, admins and whoever collected it may download an original")
    fh = default_storage.open(capture.storage_key, "rb")
    custody_log(capture=capture, action=CustodyEvent.Action.EXPORTED, by=by, detail={"via": via})
    return fh
