"""Fuzzing with hypothesis: the Oryx page parser and label grammar, the URL normaliser, uploads.

Each must either do its job or refuse with one of our errors (InvalidInput and its kin); any
other exception is a bug. Inputs are real page fragments mutated, arbitrary text, and bytes
that start like real media.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.accounts.models import User
from attrition.capture import pipeline
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_upload
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture
from attrition.evidence.services import url_canonical
from attrition.importers.oryx_html import importer as oryx
from attrition.importers.oryx_html.labels import LabelError, label_parse
from attrition.importers.oryx_html.parse import page_items
from tests.importers.conftest import needs_pages, page_path

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- the Oryx page parser, on mutated fragments of a real page ----------------------------------


def page_fragment() -> str:
    """Return a real page's first categories (headings and model lines), ~15 kB of HTML."""
    html = gzip.decompress(page_path("naval").read_bytes()).decode()
    body = html[html.index("class='post-body") :]
    first = re.search(r"<h3", body)
    assert first is not None
    return body[first.start() : first.start() + 15_000]


HOSTILE_TOKENS = [
    "</li>", "<li>", "<h3>", "</h3>", "<ul>", "</ul>", "(", ")", ",", " and ", "destroyed",
    "captured", "of which", "99999999999999999999999", "-1", "0", "\u202e", "\ufeff", "&amp;",
    "<a href='javascript:alert(1)'>(1, destroyed)</a>", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "<!--", "-->", "<![CDATA[", "\u0000", "\ud7ff", "日本",
    '<img src="https://upload.wikimedia.org/wikipedia/commons/f/f3/Flag_of_Russia.svg">',
]  # fmt: skip


@st.composite
def mutated_page(draw: st.DrawFn, fragment: str) -> bytes:
    """Return a page holding the fragment after a few deletions, insertions and repeats."""
    text = fragment
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "repeat", "text"]))
        if op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 400)) :]
        elif op == "insert":
            text = text[:at] + draw(st.sampled_from(HOSTILE_TOKENS)) + text[at:]
        elif op == "repeat":
            text = text[:at] + text[at : at + draw(st.integers(1, 2000))] * 2 + text[at:]
        else:
            text = text[:at] + draw(st.text(max_size=40)) + text[at:]
    page = (
        "<html><head><title>Attack On Europe</title></head><body>"
        f'<div class="post-body">{text}</div></body></html>'
    )
    return page.encode("utf-8", "surrogatepass")


@needs_pages
@FUZZ
@given(data=st.data())
def test_the_oryx_parser_reads_or_refuses_any_mutation_of_a_real_page(data: st.DataObject) -> None:
    raw = data.draw(mutated_page(page_fragment()))
    try:
        page = oryx.read(raw, source_name="fuzz.html")
    except InvalidInput:
        return
    items, checks = page_items(page)
    assert all(item.number >= 0 for item in items)
    assert len(checks) >= 1


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=200))
def test_the_label_grammar_reads_or_refuses_any_text(text: str) -> None:
    try:
        label = label_parse(text)
    except LabelError:
        return
    assert label.numbers
    assert all(n >= 0 for n in label.numbers)


# -- the URL normaliser ---------------------------------------------------------------------------

URL_PIECES = st.sampled_from(
    ["http://", "https://", "HTTPS://", "//", "[", "]", "::1", "@", ":", "%", "%zz", "%00", "#",
     "?", "&", "=", "/", "..", "xn--", "xn--zz", "ﬀ", "\u3002", "\t", "\n", " ", "\\",
     "127.0.0.1", "[::ffff:127.0.0.1]", ":99999", ":-1", "t.me", "youtube.com", "x.com"]
)  # fmt: skip
HOSTILE_URLS = st.lists(URL_PIECES | st.text(max_size=8), max_size=12).map("".join) | st.text()


@settings(max_examples=500, deadline=None, database=None)
@given(HOSTILE_URLS)
def test_the_url_normaliser_is_idempotent_and_raises_only_invalid_input(url: str) -> None:
    try:
        once = url_canonical(url)
    except InvalidInput:
        return
    assert url_canonical(once) == once


# -- the upload path ------------------------------------------------------------------------------

MAGIC = [b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBP",
         b"\0\0\0\x18ftypmp42", b"\x1aE\xdf\xa3", b"PK\x03\x04", b"%PDF-1.4", b"<svg",
         b"<!doctype html>", b"\x1f\x8b", b"II*\0", b"BM"]  # fmt: skip


@pytest.mark.django_db
@settings(FUZZ, max_examples=30)
@given(
    head=st.sampled_from(MAGIC),
    tail=st.binary(min_size=1, max_size=3000),
    name=st.text(max_size=300),
)
def test_an_upload_of_any_bytes_is_archived_or_refused_clearly(
    contributor: User, capture_storage: Path, head: bytes, tail: bytes, name: str
) -> None:
    job = capture_upload(fh=io.BytesIO(head + tail), name=name, by=contributor, nudge=False)
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    assert job.state in {CaptureJob.State.DONE, CaptureJob.State.FAILED}
    assert job.error_code in {"", "bad_media"}, job.error_message  # never an unexpected error
    capture = Capture.objects.get(custody__job=job)
    assert capture.mime  # a clear media type, sniffed from the bytes
    assert (capture_storage / capture.storage_key).read_bytes() == head + tail
    if job.state == CaptureJob.State.FAILED:
        assert (capture.pdq, capture.frames.count()) == ("", 0)
        assert not any(d["mime"].startswith("image/") for d in capture.derivatives.values())


@needs_pages
def test_the_unmutated_fragment_parses_into_items() -> None:
    raw = (
        "<html><head><title>t</title></head><body>"
        f'<div class="post-body">{page_fragment()}</div></body></html>'
    ).encode()
    items, checks = page_items(oryx.read(raw, source_name="fragment.html"))
    assert len(items) > 20  # the fuzzing above starts from a page the parser really reads
    assert checks


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://[", "http://[zz]/", "https://x]/a", "http://a.org:x/"])
def test_a_malformed_url_is_refused_clearly_on_the_form_and_the_api(
    contributor_client: Client, url: str
) -> None:
    response = contributor_client.post("/capture/", {"urls": url})
    assert response.status_code == 400
    assert "is not a valid URL" in response.content.decode()
    api = contributor_client.post(
        "/api/v1/captures", {"urls": [url]}, content_type="application/json"
    )
    assert api.status_code == 201, api.content
    assert api.json()["refused"][0]["code"] == "invalid"
