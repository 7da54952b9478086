"""Downloads of archived originals (each one logged), and derived images as each may see them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from attrition.errors import Forbidden, NotFound
from attrition.evidence.custody import original_export
from attrition.evidence.models import Capture
from attrition.evidence.visibility import NOT_PUBLIC, derived_choose
from attrition.evidence.visibility import derived_url as derived_url

# Short, so that a loss un-verified or media flagged later soon leaves shared caches.
PUBLIC_MAX_AGE = 300


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


@require_safe
def derived(request: HttpRequest, sha256: str, name: str) -> HttpResponseBase:
    """Send a metadata-free derived image (thumbnail, web copy, video frame) of a capture.

    Reviewers, admins and the collector get any; others only those of public media, redacted
    where it shows personal data (see evidence.visibility). Anonymous readers asking for media
    that is not public are sent to the login page, as before these became public.
    """
    capture = Capture.objects.filter(sha256=sha256).first()
    try:
        if capture is None:
            raise NotFound("no such capture")
        served = derived_choose(capture=capture, name=name, user=request.user)
    except NotFound as exc:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404(exc.message) from None
    except Forbidden as exc:
        if not request.user.is_authenticated and exc.details.get("why") == NOT_PUBLIC:
            return redirect_to_login(request.get_full_path())
        return forbidden(exc.message)
    response = FileResponse(default_storage.open(served.key, "rb"), content_type="image/jpeg")
    if served.public:
        response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    else:
        response["Cache-Control"] = "private, max-age=86400"
    # Who asks decides what this URL sends (redacted or not): caches must tell them apart.
    patch_vary_headers(response, ("Cookie",))
    response["X-Content-Type-Options"] = "nosniff"
    return response


def forbidden(message: str) -> HttpResponseForbidden:
    """Return a 403 that says why, as plain text, never cached."""
    response = HttpResponseForbidden(message + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def frame_url(capture: Capture, storage_key: str) -> str:
    """Return the URL of one sampled frame of a video capture."""
    return reverse(
        "evidence:derived", args=[capture.sha256, "frame-" + storage_key.rsplit("/", 1)[-1]]
    )
