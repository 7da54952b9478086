"""The admin's import pages: upload a file and see its dry run, then confirm, cancel or retry.

Thin: every step is a service of `importers.runs`. Only admins may reach these pages; the check
is made here, on the server, for every request, whatever the menu shows.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from attrition.admin_base.roles import ADMINS, role_of
from attrition.catalog.models import Conflict
from attrition.errors import AttritionError
from attrition.importers import registry
from attrition.importers.csv_generic.mapping import mapping_get, mapping_names
from attrition.importers.models import ImportRun
from attrition.importers.registry import IMPORT_STATUSES, importer_get, importer_names
from attrition.importers.runs import (
    import_run_cancel,
    import_run_confirm,
    import_run_create,
    import_run_retry,
)

ADMINS_ONLY = "only admins may run imports"
# Room for the form's other fields around the file, in a request's declared length.
FORM_OVERHEAD = 1024 * 1024


def admin_check(request: HttpRequest) -> None:
    """Refuse (403) everyone who is not an admin."""
    if role_of(request.user) not in ADMINS:
        raise PermissionDenied(ADMINS_ONLY)


def _kind_label(name: str) -> str:
    """Return an importer's name and summary (one that cannot be loaded still shows its name)."""
    try:
        return f"{name}: {importer_get(name).summary}"
    except ImportError as exc:
        return f"{name} (cannot be loaded: {exc})"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="importer")
    file = forms.FileField(help_text="The page or file to import (gzip is unpacked).")
    conflict = forms.ChoiceField(required=False, help_text="Empty: as the file or mapping says.")
    side = forms.CharField(
        required=False,
        max_length=64,
        help_text="Slug of the side that lost the items, if the file does not say.",
    )
    status = forms.ChoiceField(
        choices=[(s, s) for s in IMPORT_STATUSES],
        help_text="Review status of the imported losses.",
    )
    mapping = forms.ChoiceField(required=False, help_text="csv only: the column mapping.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (name, _kind_label(name)) for name in importer_names()
        ]
        self.fields["conflict"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *Conflict.objects.values_list("slug", "name"),
        ]
        self.fields["mapping"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((n, n) for n in mapping_names()),
        ]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > registry.MAX_INPUT_BYTES:
            limit = registry.MAX_INPUT_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than the limit of {limit} MB.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "csv" and not data.get("mapping"):
            self.add_error("mapping", "A csv import needs a column mapping.")
        elif data.get("kind") != "csv" and data.get("mapping"):
            self.add_error("mapping", "Only csv imports take a column mapping.")
        return data

    def options(self) -> dict[str, Any]:
        """Return the run's options; a csv mapping is copied in, as it is now."""
        data = self.cleaned_data
        options: dict[str, Any] = {
            "conflict": data["conflict"] or None,
            "side": data["side"] or None,
            "status": data["status"],
        }
        if data.get("mapping"):
            spec = mapping_get(name=data["mapping"])
            options["params"] = {
                "mapping": spec.model_dump(exclude_defaults=True),
                "mapping_name": data["mapping"],
            }
        return options


class SizeCap(FileUploadHandler):
    """Stops reading an upload as soon as it passes the import size limit."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.seen = 0
        self.exceeded = False

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        self.exceeded = content_length > self.limit + FORM_OVERHEAD

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.exceeded or self.seen > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # checked below, once the size cap is in place (Django's per-view upload handlers)
def upload_view(request: HttpRequest) -> HttpResponse:
    """Take a file and its options, make its dry run, and show it (admins only)."""
    admin_check(request)
    cap = SizeCap(request, registry.MAX_INPUT_BYTES)
    request.upload_handlers.insert(0, cap)
    return _upload(request, cap)


@csrf_protect
def _upload(request: HttpRequest, cap: SizeCap) -> HttpResponse:
    form = UploadForm()
    if request.method == "POST":
        request.FILES  # noqa: B018 - reads the body now, through the size cap
    if cap.exceeded:
        limit = registry.MAX_INPUT_BYTES // (1024 * 1024)
        messages.error(request, f"The upload is larger than the limit of {limit} MB: refused.")
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                run = import_run_create(
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    options=form.options(),
                    by=request.user,
                )
            except AttritionError as exc:
                form.add_error(None, exc.message)
            else:
                return HttpResponseRedirect(run_url(run.pk))
    context = {
        **admin.site.each_context(request),
        "title": "New import",
        "form": form,
        "limit_mb": registry.MAX_INPUT_BYTES // (1024 * 1024),
        "opts": ImportRun._meta,
    }
    return TemplateResponse(request, "importers/admin/upload.html", context)


def run_url(pk: int) -> str:
    """Return the admin page of an import run."""
    return reverse("admin:importers_importrun_change", args=[pk])


def run_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """Show a run: its options, dry-run report, outcome, and what may be done next."""
    admin_check(request)
    run = get_object_or_404(ImportRun, pk=object_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Import run #{run.pk}: {run.kind} {run.source_name}",
        "run": run,
        "opts": ImportRun._meta,
        "mapping_name": (run.options.get("params") or {}).get("mapping_name", ""),
    }
    return TemplateResponse(request, "importers/admin/run.html", context)


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    admin_check(request)
    try:
        run = action(run_id=pk, by=request.user)
    except AttritionError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(run_url(pk))
    messages.success(request, done.format(run=run))
    return HttpResponseRedirect(run_url(run.pk))


@require_POST
def confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a planned run to be applied by the job worker."""
    return _act(request, pk, import_run_confirm, "Import run #{run.pk} is queued.")


@require_POST
def cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a planned run."""
    return _act(request, pk, import_run_cancel, "Import run #{run.pk} is cancelled.")


@require_POST
def retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a failed run again as a new run, from its dry run."""
    return _act(request, pk, import_run_retry, "Retried as run #{run.pk} ({run.state}).")
