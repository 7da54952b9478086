"""URL canonicalisation: aliases fold together, tracking goes, and nothing ever raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attrition.evidence.urls import host_typo_of, url_canonical, url_forms

# The URLs a fetched or pasted string may be: both schemes, any case, any text after them.
http_urls = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "HTTP://", "Https://", "http:", "https:"]),
    st.text(),
)
# ...and ones built from parts, so that the interesting branches are reached often.
url_parts = st.builds(
    lambda scheme, user, host, port, path, query, fragment: (
        f"{scheme}://{user}{host}{port}{path}{query}{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["", "user:pw@", "@"]),
    st.sampled_from(
        [
            "x.com",
            "Mobile.Twitter.com",
            "youtu.be",
            "m.youtube.com",
            "t.me",
            "m.facebook.com",
            "bücher.de",
            "[::1]",
            "example.org.",
            "",
        ]
    ),
    st.sampled_from(["", ":", ":80", ":443", ":0443", ":8080", ":x"]),
    st.sampled_from(
        ["", "/", "/s/rybar/12", "/s/s/1", "/shorts/dQw4w9WgXcQ", "/watch", "/dQw4w9WgXcQ", "/a b"]
    )
    | st.text(max_size=12).map(lambda t: "/" + t),
    st.lists(
        st.sampled_from(["v=dQw4w9WgXcQ", "s=20", "utm_source=x", "a=1", "", "si=z", "UTM_x="])
    ).map(lambda ps: ("?" + "&".join(ps)) if ps else ""),
    st.sampled_from(["", "#", "#frag"]),
)


@settings(max_examples=400)
@given(http_urls | url_parts)
def test_it_is_idempotent_and_never_raises(url: str) -> None:
    once = url_canonical(url)
    assert url_canonical(once) == once


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/ragnarbjartur/status/1423599187478794240",
        "http://mobile.twitter.com/ragnarbjartur/status/1423599187478794240?s=20&t=AbC",
        "https://www.twitter.com/ragnarbjartur/status/1423599187478794240#m",
        "https://fxtwitter.com/ragnarbjartur/status/1423599187478794240",
        "https://vxtwitter.com/ragnarbjartur/status/1423599187478794240?ref_src=twsrc",
        "HTTPS://X.COM:443/ragnarbjartur/status/1423599187478794240?utm_source=tg",
    ],
)
def test_it_folds_x_aliases(url: str) -> None:
    assert url_canonical(url) == "https://x.com/ragnarbjartur/status/1423599187478794240"


@pytest.mark.parametrize(
    "url",
    [
        "https://youtu.be/dQw4w9WgXcQ?si=Xy&t=42",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
        "https://youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "http://www.youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ&list=PL1",
        "https://www.youtube.com/live/dQw4w9WgXcQ?si=1",
    ],
)
def test_it_folds_youtube_videos_to_the_watch_url(url: str) -> None:
    assert url_canonical(url) == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://t.me/s/rybar/51234", "https://t.me/rybar/51234"),
        ("https://telegram.me/rybar/51234?single", "https://t.me/rybar/51234?single"),
        ("https://t.me/s/rybar", "https://t.me/rybar"),
        (
            "https://m.facebook.com/story.php?id=4&mibextid=Q",
            "https://www.facebook.com/story.php?id=4",
        ),
        ("https://web.facebook.com/watch/?v=1", "https://www.facebook.com/watch/?v=1"),
        ("https://instagram.com/p/Cx1/?igsh=abc", "https://www.instagram.com/p/Cx1/"),
        ("https://i.postimg.cc/abc/T62.jpg?fbclid=I", "https://i.postimg.cc/abc/T62.jpg"),
        ("HTTP://Example.ORG:80/a?b=1&utm_medium=x#top", "http://example.org/a?b=1"),
        ("https://example.org:8443", "https://example.org:8443/"),
        ("https://user:secret@example.org/x", "https://example.org/x"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://example.org/search?s=tank", "https://example.org/search?s=tank"),
        ("http://x.com/a/status/9/", "https://x.com/a/status/9"),
        ("https://twitter.com/a/status/9/?s=20", "https://x.com/a/status/9"),
        ("https://t.me/rybar/51234/", "https://t.me/rybar/51234"),
        ("http://i.postimg.cc/abc/T62.jpg", "https://i.postimg.cc/abc/T62.jpg"),
        ("https://postimg.cc/dhTQRzCD/", "https://postimg.cc/dhTQRzCD"),
        ("https://example.org/a/", "https://example.org/a/"),
        ("https://x.com/", "https://x.com/"),
    ],
)
def test_it_canonicalises(url: str, canonical: str) -> None:
    assert url_canonical(url) == canonical


def test_it_keeps_the_original() -> None:
    forms = url_forms(" https://mobile.twitter.com/a/status/1?s=20 ")
    assert forms.original == " https://mobile.twitter.com/a/status/1?s=20 "
    assert forms.canonical == "https://x.com/a/status/1"


@pytest.mark.parametrize(
    ("host", "known"),
    [
        ("twiter.com", "twitter.com"),
        ("twitterr.com", "twitter.com"),
        ("postlmg.cc", "postimg.cc"),
        ("i.postlmg.cc", "postimg.cc"),
        ("postmig.cc", "postimg.cc"),
        ("youtbe.com", "youtube.com"),
        ("telegarm.me", "telegram.me"),
        ("twitter.com", None),
        ("i.postimg.cc", None),
        ("youtube.de", None),
        ("example.org", None),
        ("localhost", None),
    ],
)
def test_it_flags_likely_typo_hosts(host: str, known: str | None) -> None:
    assert host_typo_of(host) == known


def test_it_flags_a_typo_without_changing_the_url() -> None:
    forms = url_forms("https://i.postlmg.cc/abc/T62.jpg")
    assert forms.canonical == "https://i.postlmg.cc/abc/T62.jpg"
    assert forms.typo_of == "postimg.cc"


@given(
    st.sampled_from(
        ["twitter.com", "mobile.twitter.com", "fxtwitter.com", "vxtwitter.com", "x.com"]
    ),
    st.from_regex(r"\A/[A-Za-z0-9_]{1,15}/status/[0-9]{1,19}\Z"),
    st.sampled_from(["", "?s=20", "?t=x&s=19", "?utm_source=a", "#x"]),
)
def test_it_maps_every_alias_to_one_value(host: str, path: str, tail: str) -> None:
    assert url_canonical(f"https://{host}{path}{tail}") == f"https://x.com{path}"
