"""Admin for sensitive media: flag and clear-flag actions, and the page that makes a redaction.

The admin only asks and shows; evidence.sensitive decides who may do what, so a contributor who
posts a clear-flag action or the redaction form by hand is refused there too.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from attrition.admin_base.actions import reason_asked
from attrition.admin_base.roles import REVIEWERS, M, RoleAdmin, role_of
from attrition.admin_base.versioned import VIA
from attrition.errors import AttritionError
from attrition.evidence.models import Capture, CustodyEvent
from attrition.evidence.sensitive import boxes_parse, capture_redact, may_redact
from attrition.evidence.visibility import derived_url

FLAG_ACTIONS = ["flag_graphic", "flag_personal_data", "unflag_graphic", "unflag_personal_data"]

REDACT_PAGE = """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:evidence_capture_changelist' %}">Captures</a>
&rsaquo; <a href="{% url 'admin:evidence_capture_change' capture.pk %}">{{ capture }}</a>
&rsaquo; Redact</div>{% endblock %}
{% block content %}
<p>Black boxes are drawn over new copies of the web image and the thumbnail (or a video's
poster). Anonymous readers of media flagged as showing personal data see only the latest
redacted copy; the original and the earlier copies are kept, for reviewers and admins.</p>
<p>Give each box as <code>x,y,w,h</code>: fractions (0 to 1) of the image's width and height,
from its top left corner; separate boxes with <code>;</code>. The image below is
{{ width }}&times;{{ height }} pixels: a box at pixel (px, py) of size pw&times;ph is
<code>px/{{ width }}, py/{{ height }}, pw/{{ width }}, ph/{{ height }}</code>.</p>
<div style="display:flex;gap:1rem;align-items:flex-start">
{% if source_url %}<figure><img src="{{ source_url }}" alt="the web copy" style="max-width:640px">
<figcaption>as derived (unredacted)</figcaption></figure>{% endif %}
{% if redacted_url %}<figure><img src="{{ redacted_url }}" alt="the latest redacted copy"
style="max-width:640px"><figcaption>latest redacted copy</figcaption></figure>{% endif %}
</div>
<form method="post">{% csrf_token %}
{{ form.as_p }}
<input type="submit" value="Make a redacted copy">
<a href="{% url 'admin:evidence_capture_change' capture.pk %}">Cancel</a>
</form>
{% endblock %}
"""


class RedactForm(forms.Form):
    boxes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=4000,
        help_text='Fractions of width and height, e.g. "0.1,0.2,0.3,0.1; 0.6,0.6,0.2,0.2".',
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Kept in the capture's custody log.",
    )


class FlagActionsAdmin(RoleAdmin[M]):
    """Actions that set (anyone who may edit) or clear (reviewers, admins) the sensitive flags."""

    def flag_one(self, request: HttpRequest, obj: M, reason: str, **flags: bool) -> None:
        """Change the flags of one record through its service."""
        raise NotImplementedError

    def has_flag_permission(self, request: HttpRequest) -> bool:
        return role_of(request.user) is not None

    def has_unflag_permission(self, request: HttpRequest) -> bool:
        return role_of(request.user) in REVIEWERS

    def _flag(
        self, request: HttpRequest, queryset: QuerySet[M], done: str, reason: str, **flags: bool
    ) -> None:
        count = 0
        for obj in queryset:
            try:
                self.flag_one(request, obj, reason, **flags)
            except AttritionError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(n=count), messages.SUCCESS)

    def _unflag(
        self, request: HttpRequest, queryset: QuerySet[M], action: str, title: str, flag: str
    ) -> HttpResponse | None:
        reason, page = reason_asked(
            self, request, queryset, action=action, title=title, submit=title
        )
        if reason is None:
            return page
        self._flag(request, queryset, "Cleared the flag of {n} record(s).", reason, **{flag: False})
        return None

    @admin.action(description="Flag as graphic (blurred on public pages)", permissions=["flag"])
    def flag_graphic(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._flag(request, queryset, "Flagged {n} record(s) as graphic.", "", graphic=True)

    @admin.action(
        description="Flag as showing personal data (public sees redacted copies only)",
        permissions=["flag"],
    )
    def flag_personal_data(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._flag(
            request, queryset, "Flagged {n} record(s) as personal data.", "", personal_data=True
        )

    @admin.action(description="Clear the graphic flag (with reason)", permissions=["unflag"])
    def unflag_graphic(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        return self._unflag(
            request, queryset, "unflag_graphic", "Clear the graphic flag", "graphic"
        )

    @admin.action(description="Clear the personal-data flag (with reason)", permissions=["unflag"])
    def unflag_personal_data(
        self, request: HttpRequest, queryset: QuerySet[M]
    ) -> HttpResponse | None:
        return self._unflag(
            request,
            queryset,
            "unflag_personal_data",
            "Clear the personal-data flag",
            "personal_data",
        )


def redact_urls(model_admin: admin.ModelAdmin[Capture]) -> list[URLPattern]:
    """Return the URL of the redaction page of the capture admin."""
    view = model_admin.admin_site.admin_view(redact_view)
    return [path("<int:pk>/redact/", view, name="evidence_capture_redact")]


def redact_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for the boxes of a redaction and make it (reviewers and admins only)."""
    if not may_redact(request.user):
        raise PermissionDenied("only reviewers and admins may redact media")
    capture = get_object_or_404(Capture, pk=pk)
    form = RedactForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            capture_redact(
                capture=capture,
                boxes=boxes_parse(form.cleaned_data["boxes"]),
                by=request.user,
                reason=form.cleaned_data["reason"],
                via=VIA,
            )
        except AttritionError as exc:
            form.add_error("boxes", exc.message)
        else:
            messages.success(request, "Made a redacted copy; the public now sees it.")
            return HttpResponseRedirect(reverse("admin:evidence_capture_change", args=[pk]))
    source = capture.derivatives.get("web") or capture.derivatives.get("thumb") or {}
    context = {
        **admin.site.each_context(request),
        "title": f"Redact {capture}",
        "capture": capture,
        "form": form,
        "source_url": derived_url(capture, "web") or derived_url(capture, "thumb"),
        "redacted_url": derived_url(capture, "redacted_web")
        or derived_url(capture, "redacted_thumb"),
        "width": source.get("width") or capture.width or "?",
        "height": source.get("height") or capture.height or "?",
    }
    template = engines["django"].from_string(REDACT_PAGE)
    return TemplateResponse(request, template, context)


def media_html(capture: Capture) -> str:
    """Return the capture's thumbnail, its latest redacted copy, and the redaction history."""
    thumb, redacted = derived_url(capture, "thumb"), derived_url(capture, "redacted_thumb")
    if not thumb:
        return "— (no derived image)"
    images = format_html('<img src="{}" alt="thumbnail" style="max-height:160px">', thumb)
    if redacted:
        images += format_html(
            ' <img src="{}" alt="redacted thumbnail" style="max-height:160px"> (redacted)',
            redacted,
        )
    events = capture.custody_log.filter(action=CustodyEvent.Action.REDACTED).select_related("actor")
    done = format_html_join(
        SafeString("<br>"),
        "redaction {} by {} at {}: {}",
        (
            (
                e.detail.get("redaction", "?"),
                e.actor or "the system",
                e.at.strftime("%Y-%m-%d %H:%M:%SZ"),
                e.detail.get("reason", ""),
            )
            for e in events
        ),
    )
    link = format_html(
        '<a href="{}">make a redacted copy</a> (reviewers and admins)',
        reverse("admin:evidence_capture_redact", args=[capture.pk]),
    )
    return format_html("{}<br>{}<br>{}", images, done or "no redaction yet", link)
