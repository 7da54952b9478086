"""Sensitive media: graphic and personal-data flags, and redacted copies for the public.

Anyone signed in may set a flag (marking media sensitive only ever hides more); only reviewers
and admins may clear one. Flag changes on evidence are versions of it; on a capture (which is
never modified otherwise) they are entries of its custody log, as are redactions.

A redaction fills boxes, given as fractions of the image's width and height (the convention of
`Depiction.region`, so that one box fits the web copy, the thumbnail and a poster alike), with
solid black on the upright, metadata-free derived copies, and stores the results as new derived
files. The original and the existing derived files are never modified, and a redaction redone
writes new files, keeping the earlier ones.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw

from attrition import history
from attrition.capture.archive import derived_key
from attrition.errors import Forbidden, InvalidInput
from attrition.evidence.custody import custody_log
from attrition.evidence.models import Capture, CustodyEvent, Evidence
from attrition.history import ChangeKind

FLAGS = ("graphic", "personal_data")
# The derived images a redaction covers, and the name each redacted copy takes.
REDACTABLE = {"web": "redacted_web", "thumb": "redacted_thumb"}
REDACTED_NAMES = frozenset(REDACTABLE.values())
JPEG_QUALITY = 85
MAX_BOXES = 50
FILL = (0, 0, 0)


@dataclass(frozen=True)
class Box:
    """A rectangle as fractions (0..1) of an image's width and height."""

    x: float
    y: float
    w: float
    h: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Return the box in pixels (left, top, right, bottom), rounded outwards."""
        left = math.floor(self.x * width)
        top = math.floor(self.y * height)
        right = math.ceil(min(1.0, self.x + self.w) * width)
        bottom = math.ceil(min(1.0, self.y + self.h) * height)
        return left, top, right, bottom

    def as_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


def may_clear_flags(user: Any) -> bool:
    """Return whether a user may clear a sensitivity flag: reviewers and admins."""
    return bool(getattr(user, "is_reviewer", False) or getattr(user, "is_superuser", False))


def may_redact(user: Any) -> bool:
    """Return whether a user may make a redacted copy: reviewers and admins."""
    return may_clear_flags(user)


def flags_changes(
    obj: Capture | Evidence, *, by: Any, graphic: bool | None, personal_data: bool | None
) -> dict[str, list[bool]]:
    """Return {flag: [old, new]} for the flags that change, or raise Forbidden if not allowed."""
    if not getattr(by, "is_authenticated", False):
        raise Forbidden("only signed-in users may flag media")
    changes: dict[str, list[bool]] = {}
    for name, wanted in (("graphic", graphic), ("personal_data", personal_data)):
        current = bool(getattr(obj, name))
        if wanted is None or bool(wanted) == current:
            continue
        if not wanted and not may_clear_flags(by):
            raise Forbidden(f"only reviewers and admins may clear the {name} flag")
        changes[name] = [current, bool(wanted)]
    return changes


def capture_flag(
    *,
    capture: Capture,
    by: Any,
    graphic: bool | None = None,
    personal_data: bool | None = None,
    reason: str = "",
    via: str = "",
) -> Capture:
    """Set or clear a capture's flags (None leaves one as it is), logging any change."""
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture.pk)
        changes = flags_changes(capture, by=by, graphic=graphic, personal_data=personal_data)
        if not changes:
            return capture
        for name, (_old, new) in changes.items():
            setattr(capture, name, new)
        capture.save(update_fields=list(changes))
        custody_log(
            capture=capture,
            action=CustodyEvent.Action.FLAGGED,
            by=by,
            detail={"changes": changes, "reason": reason, "via": via},
        )
    return capture


def evidence_flag(
    *,
    evidence: Evidence,
    by: Any,
    graphic: bool | None = None,
    personal_data: bool | None = None,
    reason: str = "",
    via: str = "",
) -> Evidence:
    """Set or clear the flags of a whole post (None leaves one as it is), as a new version."""
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
        changes = flags_changes(evidence, by=by, graphic=graphic, personal_data=personal_data)
        if not changes:
            return evidence
        for name, (_old, new) in changes.items():
            setattr(evidence, name, new)
        evidence.save(update_fields=[*changes, "updated_at"])
        history.record_version(evidence, by=by, kind=ChangeKind.UPDATE, reason=reason, via=via)
    return evidence


def boxes_parse(text: str) -> list[Box]:
    """Return the boxes of "x,y,w,h; x,y,w,h" (fractions of width and height), or raise."""
    boxes = []
    for chunk in text.replace("\n", ";").split(";"):
        if not chunk.strip():
            continue
        parts = chunk.replace(" ", "").split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise InvalidInput(f"{chunk.strip()!r} is not four numbers x,y,w,h") from None
        if len(numbers) != 4:
            raise InvalidInput(f"{chunk.strip()!r} is not four numbers x,y,w,h")
        boxes.append(box_check(*numbers))
    return boxes_check(boxes)


def box_check(x: float, y: float, w: float, h: float) -> Box:
    """Return a box if it lies inside the image and is not empty, or raise InvalidInput."""
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise InvalidInput("box coordinates must be numbers")
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1):
        raise InvalidInput(
            f"the box {x},{y},{w},{h} is not inside the image: x and y in [0, 1), w and h in (0, 1]"
        )
    return Box(x, y, w, h)


def boxes_check(boxes: list[Box]) -> list[Box]:
    """Return the boxes if there are some and not too many, or raise InvalidInput."""
    if not boxes:
        raise InvalidInput("give at least one box to redact")
    if len(boxes) > MAX_BOXES:
        raise InvalidInput(f"at most {MAX_BOXES} boxes per redaction")
    return boxes


def capture_redact(
    *, capture: Capture, boxes: list[Box], by: Any, reason: str, via: str = ""
) -> Capture:
    """Store new redacted copies of a capture's web copy and thumbnail (or video poster)."""
    if not may_redact(by):
        raise Forbidden("only reviewers and admins may redact media")
    boxes = boxes_check(boxes)
    if not reason.strip():
        raise InvalidInput("say why this redaction is made")
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture.pk)
        sources = redactable_sources(capture)
        if not sources:
            raise InvalidInput(
                f"capture {capture.sha256[:12]} has no derived image to redact "
                "(pages and other files have none)"
            )
        number = capture.custody_log.filter(action=CustodyEvent.Action.REDACTED).count() + 1
        derivatives = dict(capture.derivatives)
        written: dict[str, str] = {}
        for name, key in sources.items():
            entry = image_redact(
                key, boxes, derived_key(capture.sha256, f"redacted-{number}-{name}.jpg")
            )
            derivatives[REDACTABLE[name]] = {**entry, "redaction": number}
            written[REDACTABLE[name]] = entry["key"]
        capture.derivatives = derivatives
        capture.save(update_fields=["derivatives"])
        custody_log(
            capture=capture,
            action=CustodyEvent.Action.REDACTED,
            by=by,
            detail={
                "redaction": number,
                "boxes": [b.as_dict() for b in boxes],
                "reason": reason.strip(),
                "written": written,
                "from": sources,
                "via": via,
            },
        )
    return capture


def redactable_sources(capture: Capture) -> dict[str, str]:
    """Return {derivative name: storage key} of the capture's images a redaction covers."""
    found = {}
    derivatives = capture.derivatives if isinstance(capture.derivatives, dict) else {}
    for name in REDACTABLE:
        entry = derivatives.get(name)
        mime = str(entry.get("mime", "image/jpeg")) if isinstance(entry, dict) else ""
        if isinstance(entry, dict) and entry.get("key") and mime.startswith("image/"):
            found[name] = str(entry["key"])
    return found


def image_redact(source_key: str, boxes: list[Box], key: str) -> dict[str, Any]:
    """Store a copy of a derived image with the boxes filled; return its derivatives entry."""
    with default_storage.open(source_key, "rb") as fh, Image.open(fh) as im:
        rgb = im.convert("RGB")
    draw = ImageDraw.Draw(rgb)
    for box in boxes:
        left, top, right, bottom = box.pixels(*rgb.size)
        draw.rectangle((left, top, right - 1, bottom - 1), fill=FILL)
    rgb.info.clear()
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    # Never over an earlier file: storage picks a free name if this one is taken.
    saved = default_storage.save(key, ContentFile(out.getvalue()))
    width, height = rgb.size
    return {"key": saved, "mime": "image/jpeg", "width": width, "height": height}
