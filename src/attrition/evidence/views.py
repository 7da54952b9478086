"""Downloads of archived originals, each one recorded in the capture's custody log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_safe

from attrition.errors import Forbidden
from attrition.evidence.custody import original_export
from attrition.evidence.models import Capture


@login_required
@require_safe
def original(request: HttpRequest, sha256: str) -> HttpResponseBase:
    """Send an original as it was captured, as an attachment named after its SHA-256."""
    capture = Capture.objects.filter(sha256=sha256).first()
    if capture is None:
        raise Http404("no such capture")
    try:
        fh = original_export(capture=capture, by=request.user, via="web")
    except Forbidden as exc:
        return HttpResponseForbidden(exc.message)
    response = FileResponse(
        fh, as_attachment=True, filename=sha256, content_type="application/octet-stream"
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_safe
def derived(request: HttpRequest, sha256: str, name: str) -> HttpResponseBase:
    """Send a metadata-free derived image (thumbnail, web copy, video frame) of a capture."""
    capture = Capture.objects.filter(sha256=sha256).first()
    if capture is None:
        raise Http404("no such capture")
    key = derived_key_of(capture, name)
    if key is None:
        raise Http404("no such derived file")
    response = FileResponse(default_storage.open(key, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


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
    entry = capture.derivatives.get(which) if isinstance(capture.derivatives, dict) else None
    if not isinstance(entry, dict) or not entry.get("key"):
        return ""
    name = str(entry["key"]).rsplit("/", 1)[-1]
    return reverse("evidence:derived", args=[capture.sha256, name])


def frame_url(capture: Capture, storage_key: str) -> str:
    """Return the URL of one sampled frame of a video capture."""
    return reverse(
        "evidence:derived", args=[capture.sha256, "frame-" + storage_key.rsplit("/", 1)[-1]]
    )
