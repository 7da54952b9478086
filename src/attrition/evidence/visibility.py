"""Who may see which derived image of a capture, and the public gallery of a loss's evidence.

Reviewers, admins and whoever collected a capture see all of its derived images. Anyone else
sees them only when the capture depicts a public loss (verified, not deleted, of a public
conflict) or, for contributors, a loss they may open in review; and, when the capture or any
evidence it was collected for is flagged as showing personal data, only its redacted copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.urls import reverse

from attrition.errors import Forbidden, NotFound
from attrition.evidence.custody import may_export
from attrition.evidence.models import Capture, CustodyRecord
from attrition.evidence.sensitive import REDACTABLE

if TYPE_CHECKING:
    from attrition.losses.models import Depiction

# Why a derived image was refused (the `why` detail of Forbidden).
NOT_PUBLIC, NO_REDACTION = "not_public", "no_redaction"


@dataclass(frozen=True)
class Flags:
    """Whether a capture is graphic or shows personal data, itself or through its evidence."""

    graphic: bool = False
    personal_data: bool = False


@dataclass(frozen=True)
class Served:
    """A derived file to send, and whether the public may see it (so shared caches may keep it)."""

    key: str
    public: bool


@dataclass(frozen=True)
class Media:
    """One capture as the public gallery shows it: its safe thumbnail and web copy, and flags."""

    capture: Capture
    thumb_url: str
    web_url: str
    graphic: bool
    withheld: bool  # personal data with no redacted copy yet: nothing is shown


def may_see_everything(user: Any, capture: Capture) -> bool:
    """Return whether a user sees a capture's unredacted derived images: reviewers, collector."""
    return may_export(user, capture)


def capture_is_public(capture: Capture) -> bool:
    """Return whether a capture depicts a public loss, itself or through its evidence."""
    from attrition.losses.choices import ReviewStatus
    from attrition.losses.models import Depiction

    public = Depiction.objects.filter(
        deleted_at__isnull=True,
        evidence__deleted_at__isnull=True,
        loss__status=ReviewStatus.VERIFIED,
        loss__deleted_at__isnull=True,
        loss__conflict__is_public=True,
    )
    return public.filter(
        Q(capture=capture) | Q(capture__isnull=True, evidence__custody__capture=capture)
    ).exists()


def capture_in_review_for(user: Any, capture: Capture) -> bool:
    """Return whether a capture depicts a loss an editor may open (redaction rules still apply)."""
    from attrition.losses.models import Depiction
    from attrition.review.selectors import losses_visible_to

    if not getattr(user, "is_authenticated", False):
        return False
    return (
        Depiction.objects.filter(deleted_at__isnull=True, loss__in=losses_visible_to(user))
        .filter(Q(capture=capture) | Q(capture__isnull=True, evidence__custody__capture=capture))
        .exists()
    )


def flags_of(captures: Iterable[Capture]) -> dict[int, Flags]:
    """Return the effective flags of each capture (its own, or any of its evidence's), by id."""
    captures = list(captures)
    flags = {c.pk: (c.graphic, c.personal_data) for c in captures}
    rows = CustodyRecord.objects.filter(capture__in=[c.pk for c in captures]).values_list(
        "capture_id", "evidence__graphic", "evidence__personal_data"
    )
    for capture_id, graphic, personal in rows:
        own_graphic, own_personal = flags[capture_id]
        flags[capture_id] = (own_graphic or graphic, own_personal or personal)
    return {pk: Flags(graphic=g, personal_data=p) for pk, (g, p) in flags.items()}


def derived_choose(*, capture: Capture, name: str, user: Any) -> Served:
    """Return the derived file called `name` that a user may see, or raise NotFound/Forbidden."""
    key = derived_key_of(capture, name)
    if key is None:
        raise NotFound("no such derived file")
    if may_see_everything(user, capture):
        return Served(key=key, public=False)
    if not capture_is_public(capture) and not capture_in_review_for(user, capture):
        raise Forbidden(
            "this image is not public: it shows no verified loss", details={"why": NOT_PUBLIC}
        )
    if not flags_of([capture])[capture.pk].personal_data:
        return Served(key=key, public=True)
    redacted = redacted_key_for(capture, key)
    if redacted is None:
        raise Forbidden(
            "this image shows personal data and has no redacted copy yet",
            details={"why": NO_REDACTION},
        )
    return Served(key=redacted, public=True)


def redacted_key_for(capture: Capture, key: str) -> str | None:
    """Return the key of the redacted copy standing in for a derived file, if there is one."""
    derivatives = capture.derivatives if isinstance(capture.derivatives, dict) else {}
    for name, redacted_name in REDACTABLE.items():
        redacted = derivatives.get(redacted_name)
        if not isinstance(redacted, dict) or not redacted.get("key"):
            continue
        if key == redacted["key"] or key == entry_key(derivatives.get(name)):
            return str(redacted["key"])
    return None


def entry_key(entry: object) -> str:
    """Return the storage key of a derivatives entry, or ""."""
    return str(entry.get("key", "")) if isinstance(entry, dict) else ""


def derived_key_of(capture: Capture, name: str) -> str | None:
    """Return the storage key of a capture's derived file called `name`, if it has one."""
    for entry in capture.derivatives.values():
        if not isinstance(entry, dict) or not str(entry.get("mime", "")).startswith("image/"):
            continue
        if str(entry.get("key", "")).rsplit("/", 1)[-1] == name:
            return str(entry["key"])
    if name.startswith("frame-"):
        frame = capture.frames.filter(
            storage_key__endswith=f"/frames/{name.removeprefix('frame-')}"
        )
        found = frame.values_list("storage_key", flat=True).first()
        return str(found) if found else None
    return None


def derived_url(capture: Capture, which: str = "thumb") -> str:
    """Return the URL of a capture's derived image (`thumb` or `web`), or "" if it has none."""
    key = entry_key(
        capture.derivatives.get(which) if isinstance(capture.derivatives, dict) else None
    )
    if not key:
        return ""
    return reverse("evidence:derived", args=[capture.sha256, key.rsplit("/", 1)[-1]])


def public_media(depictions: Iterable[Depiction]) -> dict[int, list[Media]]:
    """Return, by depiction id, the media of each depiction of a public loss as the public sees it.

    A depiction naming a capture shows that capture; one that names none shows every image or
    video collected for its evidence.
    """
    depictions = list(depictions)
    by_evidence: dict[int, list[Capture]] = {}
    records = CustodyRecord.objects.filter(
        evidence__in={d.evidence_id for d in depictions if d.capture_id is None},
        capture__kind__in=[Capture.Kind.IMAGE, Capture.Kind.VIDEO],
    ).select_related("capture")
    for record in records.order_by("collected_at", "pk"):
        found = by_evidence.setdefault(record.evidence_id, [])
        if all(c.pk != record.capture_id for c in found):
            found.append(record.capture)
    shown = {
        d.pk: [d.capture] if d.capture is not None else by_evidence.get(d.evidence_id, [])
        for d in depictions
    }
    flags = flags_of({c.pk: c for cs in shown.values() for c in cs}.values())
    return {
        pk: [media_of(c, flags[c.pk]) for c in captures if derived_url(c, "thumb")]
        for pk, captures in shown.items()
    }


def media_of(capture: Capture, flags: Flags) -> Media:
    """Return how the public sees one capture: redacted copies when it shows personal data."""
    thumb, web = ("redacted_thumb", "redacted_web") if flags.personal_data else ("thumb", "web")
    thumb_url = derived_url(capture, thumb)
    return Media(
        capture=capture,
        thumb_url=thumb_url,
        web_url=derived_url(capture, web) or thumb_url,
        graphic=flags.graphic,
        withheld=not thumb_url,
    )
