"""Downloads of archived originals, each one recorded in the capture's custody log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
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
