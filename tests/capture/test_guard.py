"""The SSRF guard refuses every internal address, in every spelling, and allows public ones."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from attrition.capture import guard
from attrition.capture.errors import FetchRefused
from attrition.capture.guard import address_refusal, url_vet

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]

FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "metadata"),
    ("100.100.100.200", "metadata"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "'this network'"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "IETF"),
    ("192.0.2.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "metadata"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "IPv6 form of 127.0.0.1"),
    ("::ffff:169.254.169.254", "IPv6 form of 169.254.169.254"),
    ("::ffff:10.0.0.1", "IPv6 form of 10.0.0.1"),
    ("::127.0.0.1", "IPv6 form of 127.0.0.1"),
    ("::10.0.0.1", "IPv6 form of 10.0.0.1"),
    ("2002:7f00:1::", "IPv6 form of 127.0.0.1"),
    ("2002:a9fe:a9fe::1", "IPv6 form of 169.254.169.254"),
    ("64:ff9b::7f00:1", "IPv6 form of 127.0.0.1"),
    ("64:ff9b::a00:1", "IPv6 form of 10.0.0.1"),
    ("64:ff9b:1::a9fe:a9fe", "IPv6 form of 169.254.169.254"),
    ("2001:db8::1", "private"),
    ("2001::1", "private"),
]


@pytest.mark.parametrize(("address", "why"), FORBIDDEN)
def test_it_refuses_the_address(address: str, why: str) -> None:
    reason = address_refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5", "::ffff:8.8.8.8"]
)
def test_it_allows_a_public_address(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://017700000001/",
        "http://8.8.8.010/",
        "https://0xA9.0xFE.0xA9.0xFE/",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http:///no-host",
        "http://[::1/",
        "http://example.org:99999/",
    ],
)
def test_it_refuses_the_url(url: str) -> None:
    with pytest.raises(FetchRefused):
        url_vet(url, allow=[])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1/",
        "http://2130706433/",
        "http://192.168.0.1/",
    ],
)
def test_it_refuses_internal_urls_even_when_loopback_is_allowed(url: str) -> None:
    with pytest.raises(FetchRefused):
        url_vet(url, allow=LOOPBACK)


def test_it_never_allows_cloud_metadata() -> None:
    with pytest.raises(FetchRefused, match="metadata"):
        url_vet("http://169.254.169.254/", allow=[ipaddress.ip_network("169.254.0.0/16")])


def test_it_allows_loopback_when_the_setting_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_FETCH_ALLOW", "127.0.0.0/8")
    target = url_vet("http://127.0.0.1:8000/a.jpg")
    assert target.address == ipaddress.ip_address("127.0.0.1")
    assert target.host_header == "127.0.0.1:8000"


def test_it_refuses_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTRITION_FETCH_ALLOW", raising=False)
    with pytest.raises(FetchRefused, match="loopback"):
        url_vet("http://localhost/")


def fake_dns(answers: list[str]) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in answers
        ]

    return getaddrinfo


def test_it_refuses_a_name_when_any_answer_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard.socket, "getaddrinfo", fake_dns(["93.184.215.14", "10.0.0.7"]))
    with pytest.raises(FetchRefused, match=r"10\.0\.0\.7 is a private address"):
        url_vet("https://evidence.example/a.jpg", allow=[])


def test_it_returns_the_vetted_address_to_connect_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        guard.socket, "getaddrinfo", fake_dns(["93.184.215.14", "2606:4700::6810:84e5"])
    )
    target = url_vet("https://Evidence.Example./a.jpg?x=1", allow=[])
    assert target.address == ipaddress.ip_address("93.184.215.14")
    assert target.host == "evidence.example"
    assert target.port == 443
    assert target.host_header == "evidence.example"


# -- hostile spellings the lists above do not hold (tests/hostile covers the rest of issue 10) --


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f.1/",
        "http://0177.1/",
        "http://127.000.000.001/",
        "http://127.0.0.1./",
        "http://0/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://[fd00::1]/",
        "http://[fe80::1%25eth0]/",
        "http://[fe80::1]/",
        "http://evil.example@127.0.0.1/",
        "http://user:pass@[::1]:8080/",
        "http://evil.example:80@10.0.0.1/",
        "http://LocalHost.:8080/",
        "http://user@localhost/",
        "HTTP://LOCALHOST/",
        "file://localhost/etc/passwd",
        "gopher://localhost:6379/_INFO",
        "dict://127.0.0.1:6379/info",
        "ftp://127.0.0.1/",
        "jar:http://127.0.0.1!/",
        "//127.0.0.1/",
        "http:127.0.0.1",
    ],
)
def test_it_refuses_more_spellings_of_internal_hosts(url: str) -> None:
    with pytest.raises(FetchRefused):
        url_vet(url, allow=[])


def test_it_refuses_this_machines_own_name() -> None:
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, 80)
    except socket.gaierror:
        pytest.skip(f"{name} does not resolve here")
    with pytest.raises(FetchRefused):
        url_vet(f"http://{name}/", allow=[])


@pytest.mark.parametrize(
    "location",
    [
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00::1]/",
        "http://evil.example@10.0.0.1/",
        "http://0x7f.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
    ],
)
def test_it_refuses_a_redirect_from_a_real_server_to_an_internal_host(
    media_server: Any, tmp_path: Any, location: str
) -> None:
    from attrition.capture.steps.http_fetch import run
    from tests.capture.test_http_fetch import FAST
    from tests.loopback import redirect

    media_server.routes["/hop"] = lambda h: redirect(h, location)
    with pytest.raises(FetchRefused):
        run(media_server.url("/hop"), limits=FAST, tmp_dir=tmp_path)
    assert [r["path"] for r in media_server.requests] == ["/hop"]  # nothing past the refusal
    assert list(tmp_path.iterdir()) == []
