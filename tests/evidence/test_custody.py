"""Originals are downloaded only by those allowed, and every view and download is logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from attrition.accounts.models import User
from attrition.evidence.models import CustodyEvent, Evidence
from attrition.evidence.services import evidence_create
from tests.conftest import client_for, user_make
from tests.evidence.test_bundle import archived
from tests.loopback import JPEG

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(capture_storage: Path, tmp_path: Path, contributor: User) -> Evidence:
    found = evidence_create(url="https://t.me/frontline/7", by=contributor)
    archived(found, JPEG, tmp_path, contributor)
    return found


def test_it_sends_the_original_as_captured_and_logs_the_export(
    evidence: Evidence, reviewer: User, reviewer_client: Client
) -> None:
    capture = evidence.captures.get()
    response = reviewer_client.get(f"/evidence/originals/{capture.sha256}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == JPEG  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment" in response["Content-Disposition"]
    exported = CustodyEvent.objects.get(capture=capture, action="exported")
    assert exported.actor == reviewer


def test_it_lets_the_collector_download_but_not_other_contributors(
    evidence: Evidence, contributor_client: Client
) -> None:
    capture = evidence.captures.get()
    own = contributor_client.get(f"/evidence/originals/{capture.sha256}")
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == JPEG  # type: ignore[attr-defined]
    stranger = client_for(user_make("erin", role="contributor"))
    assert stranger.get(f"/evidence/originals/{capture.sha256}").status_code == 403
    assert CustodyEvent.objects.filter(action="exported").count() == 1


def test_it_keeps_originals_from_anonymous_readers(evidence: Evidence, anon_client: Client) -> None:
    capture = evidence.captures.get()
    response = anon_client.get(f"/evidence/originals/{capture.sha256}")
    assert response.status_code == 302
    assert not CustodyEvent.objects.filter(action="exported").exists()
    assert anon_client.get("/evidence/originals/" + "0" * 64).status_code == 302


def test_it_logs_who_viewed_a_capture_in_the_admin(
    evidence: Evidence, admin_user: User, admin_client: Client
) -> None:
    capture = evidence.captures.get()
    page = admin_client.get(f"/admin/evidence/capture/{capture.pk}/change/")
    assert page.status_code == 200
    assert "download as captured" in page.content.decode()
    viewed = CustodyEvent.objects.get(capture=capture, action="viewed")
    assert viewed.actor == admin_user
