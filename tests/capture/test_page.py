"""The page step: what a fetched HTML page says about itself, from realistic and broken pages."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from attrition.capture.errors import BadMedia
from attrition.capture.steps import page
from attrition.capture.steps.page import MediaRef, PageFacts, run
from tests.loopback import JPEG, PNG

ARTICLE_URL = "https://news.example.org/2024/02/01/robotyne-losses?utm_source=x"
ARTICLE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Losses near Robotyne | Example News</title>
  <meta name="description" content="Footage shows a destroyed   T-72B3
     near Robotyne.">
  <meta name="author" content="Olena Kovalenko">
  <link rel="canonical" href="/2024/02/01/robotyne-losses">
  <link rel="icon" href="/favicon.ico">
  <meta property="og:title" content="Destroyed T-72B3 near Robotyne">
  <meta property="og:site_name" content="Example News">
  <meta property="og:image" content="//cdn.example.org/img/lead.jpg">
  <meta property="og:video" content="https://cdn.example.org/video/lead.mp4">
  <meta property="article:published_time" content="2024-02-01T12:30:00+02:00">
  <script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "NewsArticle",
     "datePublished": "2020-01-01T00:00:00Z", "author": {"name": "Someone Else"}}
  </script>
</head>
<body>
  <header><img src="/static/logo.png" width="120" height="40" alt="logo"></header>
  <article>
    <h1>Destroyed T-72B3 near Robotyne</h1>
    <time datetime="2019-05-05">earlier</time>
    <video controls poster="/img/poster.jpg">
      <source src="/video/clip.webm" type="video/webm">
      <source src="/video/clip.mp4" type="video/mp4">
    </video>
    <img src="/img/tank.jpg" width="800" height="450" alt="tank">
    <img src="https://cdn.example.org/img/lead.jpg" alt="the lead image again">
    <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/lazy.jpg">
    <img src="javascript:alert(1)">
    <img src="/pixel.gif" width="1" height="1">
    <img src="/img/wide.jpg" width="100%">
    <video src="data:video/mp4;base64,AAAA"></video>
  </article>
</body>
</html>
"""

TELEGRAM_URL = "https://t.me/somechannel/1234?embed=1"
TELEGRAM = """<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>Telegram Widget</title>
<meta property="og:title" content="Some Channel">
<meta property="og:description" content="Burning BMP-2 east of Avdiivka">
<meta property="og:image" content="https://cdn4.telesco.pe/file/channel-avatar.jpg">
<meta property="og:site_name" content="Telegram">
</head><body class="widget_frame_base tgme_widget body_widget_post">
<div class="tgme_widget_message" data-post="somechannel/1234">
 <div class="tgme_widget_message_author"><a class="tgme_widget_message_owner_name"
   href="https://t.me/somechannel"><span dir="auto">Some Channel</span></a></div>
 <a class="tgme_widget_message_photo_wrap" href="https://t.me/somechannel/1234?single"
   style="width:800px;background-image:url('https://cdn4.telesco.pe/file/photo.jpg')"></a>
 <a class="tgme_widget_message_video_player" href="https://t.me/somechannel/1234?single">
  <i class="tgme_widget_message_video_thumb"
     style="background-image:url('https://cdn4.telesco.pe/file/thumb.jpg')"></i>
  <div class="tgme_widget_message_video_wrap">
   <video src="https://cdn4.telesco.pe/file/clip.mp4?token=abc" class="tgme_widget_message_video"
     width="100%" height="100%"></video>
  </div>
 </a>
 <div class="tgme_widget_message_text" dir="auto">Burning BMP-2 east of Avdiivka</div>
 <a class="tgme_widget_message_date" href="https://t.me/somechannel/1234">
  <time datetime="2024-02-17T06:45:12+00:00" class="time">06:45</time></a>
</div></body></html>
"""


def facts(
    tmp_path: Path, body: bytes | str, base_url: str = ARTICLE_URL, **kwargs: object
) -> PageFacts:
    """Return the facts of a page written to a file."""
    path = tmp_path / "page.html"
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return run(path=path, base_url=base_url, **kwargs)  # type: ignore[arg-type]


def test_it_reads_a_news_article(tmp_path: Path) -> None:
    found = facts(tmp_path, ARTICLE)
    assert found.title == "Destroyed T-72B3 near Robotyne"
    assert found.description == "Footage shows a destroyed T-72B3 near Robotyne."
    assert found.canonical_url == "https://news.example.org/2024/02/01/robotyne-losses"
    assert found.site_name == "Example News"
    assert found.author == "Olena Kovalenko"
    assert found.published_at == dt.datetime(2024, 2, 1, 10, 30, tzinfo=dt.UTC)


def test_it_lists_the_media_in_order_without_duplicates(tmp_path: Path) -> None:
    assert facts(tmp_path, ARTICLE).media == (
        MediaRef("https://cdn.example.org/video/lead.mp4", "video", "og:video"),
        MediaRef("https://cdn.example.org/img/lead.jpg", "image", "og:image"),
        MediaRef("https://news.example.org/video/clip.webm", "video", "video source"),
        MediaRef("https://news.example.org/video/clip.mp4", "video", "video source"),
        MediaRef("https://news.example.org/img/poster.jpg", "image", "video poster"),
        MediaRef("https://news.example.org/img/tank.jpg", "image", "img"),
        MediaRef("https://news.example.org/img/lazy.jpg", "image", "img"),
        MediaRef("https://news.example.org/img/wide.jpg", "image", "img"),
    )


def test_it_stops_at_max_media(tmp_path: Path) -> None:
    media = facts(tmp_path, ARTICLE, max_media=2).media
    assert [ref.source for ref in media] == ["og:video", "og:image"]


def test_it_reads_a_telegram_embed(tmp_path: Path) -> None:
    found = facts(tmp_path, TELEGRAM, base_url=TELEGRAM_URL)
    assert found.title == "Some Channel"
    assert found.description == "Burning BMP-2 east of Avdiivka"
    assert found.site_name == "Telegram"
    assert found.published_at == dt.datetime(2024, 2, 17, 6, 45, 12, tzinfo=dt.UTC)
    assert found.media == (
        MediaRef("https://cdn4.telesco.pe/file/channel-avatar.jpg", "image", "og:image"),
        MediaRef("https://cdn4.telesco.pe/file/clip.mp4?token=abc", "video", "video"),
        MediaRef("https://cdn4.telesco.pe/file/photo.jpg", "image", "background-image"),
        MediaRef("https://cdn4.telesco.pe/file/thumb.jpg", "image", "background-image"),
    )


def test_it_resolves_relative_urls_against_the_base_element(tmp_path: Path) -> None:
    body = (
        '<html><head><base href="https://static.example.net/story/">'
        '<meta property="og:url" content="../canonical"></head>'
        '<body><img src="photo.jpg"><video src="  clip.mp4\n"></video></body></html>'
    )
    found = facts(tmp_path, body)
    assert found.canonical_url == "https://static.example.net/canonical"
    assert [ref.url for ref in found.media] == [
        "https://static.example.net/story/clip.mp4",
        "https://static.example.net/story/photo.jpg",
    ]


def test_it_skips_urls_that_are_not_http(tmp_path: Path) -> None:
    body = (
        "<html><head>"
        '<meta property="og:image" content="data:image/png;base64,iVBORw0KGgo=">'
        '<link rel="canonical" href="javascript:void(0)"></head><body>'
        '<img src="java\nscript:alert(1)"><img src="blob:https://x.org/1">'
        '<img src="ftp://example.org/a.jpg"><img src="mailto:a@example.org">'
        '<video src="data:video/mp4;base64,AAAA"></video></body></html>'
    )
    found = facts(tmp_path, body)
    assert found.media == ()
    assert found.canonical_url == ""


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ('<html><head><meta charset="iso-8859-1"><title>Café à Kherson</title>', None),
        ("<html><head><title>Café à Kherson</title>", "ISO-8859-1"),
        ("<html><head><title>Café à Kherson</title>", None),  # no declaration: sniffed
        ("<html><head><title>Café à Kherson</title>", "utf-8"),  # a header that is wrong
    ],
)
def test_it_decodes_latin_1(tmp_path: Path, body: str, encoding: str | None) -> None:
    assert facts(tmp_path, body.encode("latin-1"), encoding=encoding).title == "Café à Kherson"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ('<html><head><meta charset="utf-8"><title>Бахмут — знищений танк</title>'.encode(), None),
        ("<html><head><title>Бахмут — знищений танк</title>".encode(), None),
        ("<html><head><title>Бахмут — знищений танк</title>".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "<html><title>Бахмут — знищений танк</title>".encode(), "latin-1"),
        ("<html><head><title>Бахмут — знищений танк</title>".encode("cp1251"), "windows-1251"),
        (
            codecs.BOM_UTF16_LE + "<html><title>Бахмут — знищений танк</title>".encode("utf-16-le"),
            None,
        ),
    ],
)
def test_it_decodes_other_encodings(tmp_path: Path, raw: bytes, encoding: str | None) -> None:
    assert facts(tmp_path, raw, encoding=encoding).title == "Бахмут — знищений танк"


def test_it_copes_with_broken_html(tmp_path: Path) -> None:
    body = (
        "<html><head><title>Broken <b>page</title><meta property='og:image' content=/a.jpg>"
        "<body><div><p>unclosed <video src=/v.mp4><img src='/b.jpg' width=abc>"
        "</span></td></html></html><img src=/c.jpg"
    )
    found = facts(tmp_path, body)
    assert found.title.startswith("Broken")
    assert [ref.url for ref in found.media][:3] == [
        "https://news.example.org/a.jpg",
        "https://news.example.org/v.mp4",
        "https://news.example.org/b.jpg",
    ]


def test_it_reads_dates_from_linked_data_and_microdata(tmp_path: Path) -> None:
    linked = (
        '<html><script type="application/ld+json">[{"@graph": [{"@type": "NewsArticle",'
        '"datePublished": "2023-06-08T05:00:00-04:00", "author": [{"name": "A"}, {"name": "B"}]'
        "}]}]</script></html>"
    )
    found = facts(tmp_path, linked)
    assert found.published_at == dt.datetime(2023, 6, 8, 9, 0, tzinfo=dt.UTC)
    assert found.author == "A, B"
    micro = '<html><span itemprop="datePublished" content="2022-03-01">1 March</span></html>'
    assert facts(tmp_path, micro).published_at == dt.datetime(2022, 3, 1, tzinfo=dt.UTC)
    bad = '<html><meta property="article:published_time" content="yesterday"><p>x</p></html>'
    assert facts(tmp_path, bad).published_at is None


def test_it_reads_only_the_start_of_a_huge_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page, "READ_MAX", 10_000)
    body = '<html><img src="/first.jpg">' + "<p>filler</p>" * 2000 + '<img src="/late.jpg">'
    assert [ref.url for ref in facts(tmp_path, body).media] == [
        "https://news.example.org/first.jpg"
    ]


@pytest.mark.parametrize(
    "body",
    [
        JPEG,
        PNG,
        b"",
        b"   \n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b'{"title": "not a page", "html": "<p>no</p>"}',
        b"Just some text about a tank, no markup at all.",
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
    ],
)
def test_it_refuses_bytes_that_are_not_html(tmp_path: Path, body: bytes) -> None:
    with pytest.raises(BadMedia) as caught:
        facts(tmp_path, body)
    assert caught.value.as_dict()["error"]["code"] == "bad_media"
