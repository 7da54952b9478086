"""The Atom feed of newly verified losses, for the whole ledger or one conflict."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from attrition import config
from attrition.catalog.models import Conflict
from attrition.losses.fates import fate_history_text
from attrition.losses.models import Loss
from attrition.losses.selectors import losses_recently_verified

ENTRIES = 50
Entry = tuple[Loss, dt.datetime]


if TYPE_CHECKING:
    FeedBase = Feed[Entry, Conflict | None]
else:  # Feed is generic only in django-stubs
    FeedBase = Feed


class VerifiedLossesFeed(FeedBase):
    """The latest losses to be verified, newest first: one entry per loss, dated when verified."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str = "") -> Conflict | None:
        if not slug:
            return None
        found = Conflict.objects.filter(slug=slug, is_public=True).first()
        if found is None:
            raise Http404("no such conflict")
        return found

    def title(self, obj: Conflict | None) -> str:
        where = f": {obj.name}" if obj else ""
        return f"{settings.SITE_NAME}{where}: newly verified losses"

    def link(self, obj: Conflict | None) -> str:
        return reverse("site:conflict", args=[obj.slug]) if obj else reverse("site:home")

    def subtitle(self, obj: Conflict | None) -> str:
        return (
            "Each loss once, when a reviewer first verified it, with its evidence. "
            f"Data licence: {config.DATA_LICENCE.read()}."
        )

    def items(self, obj: Conflict | None) -> list[Entry]:
        return losses_recently_verified(conflict=obj, limit=ENTRIES)

    def item_title(self, item: Entry) -> str:
        loss = item[0]
        return f"{loss.model.name}, {loss.fate} ({loss.side.short_name}, {loss.conflict.name})"

    def item_description(self, item: Entry) -> str:
        loss = item[0]
        parts = [fate_history_text(loss.fate_history) or loss.fate]
        if loss.first_seen:
            parts.append(f"first seen {loss.first_seen.isoformat()}")
        if loss.admin_unit is not None:
            parts.append(f"in {loss.admin_unit.name}")
        # Atom's summary is type="html", which readers render: the plain text is escaped for it.
        return escape("; ".join(parts) + ".")

    def item_link(self, item: Entry) -> str:
        return reverse("site:loss", args=[item[0].pk])

    def item_pubdate(self, item: Entry) -> dt.datetime:
        return item[1]

    def item_updateddate(self, item: Entry) -> dt.datetime:
        return item[0].updated_at

    def item_categories(self, item: Entry) -> list[str]:
        return [item[0].model.category.name, item[0].fate]
