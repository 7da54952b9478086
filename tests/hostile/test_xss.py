"""Stored XSS: payloads in every text field contributors and imports set, opened in Chromium.

The pages are opened with the Content-Security-Policy bypassed, so that what is tested is the
escaping itself: each payload would set `window.__xss` or open a dialog if it ran. The text must
be shown as text. A last test shows that the policy stops an injected inline script as well.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from attrition.accounts.models import User
from attrition.catalog.models import EquipmentModel
from attrition.claims.services import claim_create
from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.territory.models import ControlRecord, ControlStatus
from tests.ledger import Ledger
from tests.territory.tiny import tiny_map_make

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")  # Playwright's loop beside the ORM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUN = "window.__xss=(window.__xss||0)+1;alert(1)"
PAYLOAD = f'"><script>{RUN}</script><img src=x onerror="{RUN}"><svg onload="{RUN}">'
SHORT = f"<svg onload={RUN}>"  # for fields of 64 characters
EVIL_URL = f'https://evil.example/a?q="><script>{RUN}</script>'


@dataclass
class Hostile:
    loss: Loss
    evidence: Evidence
    model: EquipmentModel
    record: ControlRecord
    claim_id: int


@pytest.fixture
def hostile(ledger: Ledger, contributor: User, reviewer: User) -> Hostile:
    """Return a ledger whose every free-text field holds a payload, published where it can be."""
    tiny = tiny_map_make(ledger, contributor, reviewer)
    for unit in (tiny.alpha, tiny.north):  # names from an imported boundary file
        unit.name = f"{unit.name} {PAYLOAD}"
        unit.save()
    # As the Oryx importer creates models it does not know, named as the page names them.
    model = EquipmentModel.objects.create(
        slug="t-62-hostile", name=f"T-62 {PAYLOAD}"[:200], category=ledger.tanks
    )
    evidence = evidence_create(url=EVIL_URL)
    Evidence.objects.filter(pk=evidence.pk).update(title=PAYLOAD, channel=PAYLOAD)
    evidence.refresh_from_db()
    loss = ledger.loss(
        model=model,
        fates=[{"fate": "destroyed", "detail": PAYLOAD[:100]}],
        first_seen=dt.date(2021, 7, 1),
        admin_unit=tiny.alpha,
        lat=1.5,
        lon=0.5,
        place_text=PAYLOAD,
        unit=PAYLOAD,
        markings=PAYLOAD,
        description=PAYLOAD,
        tags=[SHORT],
        evidence=[evidence],
    )
    ledger.loss(model=model, status=ReviewStatus.SUBMITTED, unit=PAYLOAD, place_text=PAYLOAD)
    record = tiny.record(tiny.alpha, ControlStatus.INSURGENT, dt.date(2021, 6, 1))
    ControlRecord.objects.filter(pk=record.pk).update(note=PAYLOAD)
    claim = claim_create(
        conflict=ledger.conflict,
        claimant=PAYLOAD,
        claimed_on=dt.date(2021, 7, 2),
        scope=PAYLOAD,
        number=700,
        by=contributor,
        source_url=EVIL_URL,
        quote=PAYLOAD,
        status=ReviewStatus.SUBMITTED,
    )
    return Hostile(loss, evidence, model, record, claim.pk)


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Callable[..., tuple[Any, list[str]]]]:
    """Return a function opening a page as a user; it returns the page and what ran in it."""
    contexts: list[Any] = []

    def open_page(user: User | None, path: str, *, bypass_csp: bool = True) -> Any:
        context = browser.new_context(bypass_csp=bypass_csp)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies["sessionid"].value
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
        page = context.new_page()
        ran: list[str] = []
        page.on("dialog", lambda d: (ran.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(live_server.url + path, wait_until="networkidle")
        return page, ran

    yield open_page
    for context in contexts:
        context.close()


def assert_inert(page: Any, ran: list[str], *, shown: bool = True) -> None:
    """Assert no payload ran, and (if `shown`) that one is on the page as plain text."""
    assert ran == []
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert page.locator("[onerror], [onload]").count() == 0
    if shown:
        assert "onerror=" in page.locator("body").inner_text() or "<svg onload=" in (
            page.locator("body").inner_text()
        )


@pytest.mark.slow
def test_public_pages_show_the_payloads_as_text(
    hostile: Hostile, open_as: Callable[..., Any]
) -> None:
    loss, model = hostile.loss, hostile.model
    for path in [
        "/",
        "/c/test-war/",
        "/c/test-war/overview/",
        "/losses/",
        f"/losses/?q={loss.unit[:20]}",
        f"/losses/{loss.pk}/",
        f"/models/{model.slug}/",
        "/c/test-war/charts/",
        "/claims/",
        "/territory/",
        f"/c/test-war/territory/units/{loss.admin_unit.code}/",
    ]:
        page, ran = open_as(None, path)
        quiet = {"/", "/territory/", "/claims/", "/c/test-war/charts/"}  # no free text there
        assert_inert(page, ran, shown=path not in quiet)


def test_maps_show_popups_and_tooltips_as_text(
    hostile: Hostile, open_as: Callable[..., Any]
) -> None:
    page, ran = open_as(None, "/c/test-war/map/")
    page.wait_for_selector("#loss-map[data-points='1']")
    page.locator("path.loss-marker").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "<svg onload=" in popup.inner_text() or "onerror=" in popup.inner_text()
    assert_inert(page, ran, shown=False)

    page, ran = open_as(None, "/c/test-war/territory/?date=2021-06-25")
    page.wait_for_selector('#t-map[data-date="2021-06-25"]')
    page.locator("path.t-unit-T01-alpha").hover(force=True)
    tooltip = page.locator(".t-tip")
    tooltip.wait_for()
    assert "onerror=" in tooltip.inner_text()
    assert_inert(page, ran, shown=False)


@pytest.mark.slow
def test_review_and_admin_pages_show_the_payloads_as_text(
    hostile: Hostile, open_as: Callable[..., Any], admin_user: User
) -> None:
    loss, evidence, record = hostile.loss, hostile.evidence, hostile.record
    for path in [
        "/review/",
        f"/review/losses/{loss.pk}/",
        f"/review/claims/{hostile.claim_id}/",
        f"/review/control/{record.pk}/",
        "/admin/losses/loss/",
        f"/admin/losses/loss/{loss.pk}/change/",
        f"/admin/losses/loss/{loss.pk}/history/",
        "/admin/evidence/evidence/",
        f"/admin/evidence/evidence/{evidence.pk}/change/",
        "/admin/catalog/equipmentmodel/",
        "/admin/claims/claim/",
        "/admin/territory/adminunit/",
    ]:
        page, ran = open_as(admin_user, path)
        assert_inert(page, ran, shown=False)


def test_the_feed_carries_the_payloads_as_escaped_text(hostile: Hostile) -> None:
    body = Client().get("/feed.atom").content
    root = ElementTree.fromstring(body)
    texts = " ".join(el.text or "" for el in root.iter())
    assert "T-62 " in texts
    for el in root.iter():
        if el.get("type") == "html":  # feed readers render these as HTML
            assert "<script" not in (el.text or "")
            assert "onerror=" not in (el.text or "").replace("onerror=&quot;", "")


def test_the_policy_stops_an_injected_inline_script(
    hostile: Hostile, open_as: Callable[..., Any]
) -> None:
    page, ran = open_as(None, f"/losses/{hostile.loss.pk}/", bypass_csp=False)
    result = page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__xss=1";
                  document.body.appendChild(s); return window.__xss; }"""
    )
    assert result is None
    assert ran == []
