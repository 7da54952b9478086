"""Links to admin change pages."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


def admin_link(obj: models.Model, text: str | None = None) -> SafeString:
    """Return a link to the admin change page of `obj`, or its text if it has none."""
    label = text if text is not None else str(obj)
    meta = obj._meta
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def record_link(model: type[models.Model], pk: Any, text: str) -> SafeString:
    """Return a link to the admin change page of the `model` row `pk`, without loading it."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)
