"""The HTTPS path of the capture fetch against a real TLS server on loopback.

A throwaway CA issues the server's certificate for evidence.test; the guard alone is taught that
evidence.test is 127.0.0.1 (`guard.resolve` is stubbed, the socket module is not), so a fetch that
looked the name up again would fail. The client trusts the CA through SSL_CERT_FILE, which
OpenSSL's default verify paths read: the fetch's connection pools load those defaults.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from attrition.capture import guard
from attrition.capture.errors import FetchFailed, FetchRefused
from attrition.capture.guard import IPAddress
from attrition.capture.steps import http_fetch, ytdlp
from attrition.capture.steps.http_fetch import Limits
from tests.capture.media import video_bytes
from tests.conftest import TEST_FETCH_MAX_BYTES
from tests.loopback import JPEG, Route, redirect, send

HOST = "evidence.test"
LOOPBACK = [ipaddress.IPv4Network("127.0.0.0/8")]
FAST = Limits(max_bytes=TEST_FETCH_MAX_BYTES, total_s=5.0, connect_s=1.0, read_s=1.0)
CLIP = video_bytes("mp4", "mpeg4")
PAGE = b'<!doctype html><html><head><title>Clip</title></head><body><video src="clip.mp4"></video>'
# The certificates a server may present, and why the client must refuse each bad one.
BAD_CERTIFICATES = [
    pytest.param(
        "other", r"hostname 'evidence\.test' doesn't match 'other\.test'", id="other-name"
    ),
    pytest.param("self-signed", r"certificate verify failed: self-signed", id="self-signed"),
]


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, in PEM."""

    cert: bytes
    key: bytes


@dataclass(frozen=True)
class Pki:
    """A throwaway CA (its certificate in PEM) and the server certificates of the tests."""

    ca: bytes
    servers: dict[str, Issued]


def certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    ca: bool = False,
) -> x509.Certificate:
    """Return a certificate for `name`, signed by the issuer (self-signed without one)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    """Return a certificate and its key in PEM."""
    return Issued(
        cert=cert.public_bytes(serialization.Encoding.PEM),
        key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@pytest.fixture(scope="module")
def pki() -> Pki:
    """Return a CA and three server certificates: evidence.test, other.test, and a self-signed."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("attrition test CA", ca_key, ca=True)
    servers: dict[str, Issued] = {}
    for label, name in (("good", HOST), ("other", "other.test")):
        key = ec.generate_private_key(ec.SECP256R1())
        servers[label] = pem(certificate(name, key, issuer=ca, issuer_key=ca_key), key)
    key = ec.generate_private_key(ec.SECP256R1())
    servers["self-signed"] = pem(certificate(HOST, key), key)
    return Pki(ca=ca.public_bytes(serialization.Encoding.PEM), servers=servers)


@dataclass
class TLSServer:
    """A running HTTPS server on 127.0.0.1: its routes, the SNI of each handshake, its requests."""

    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    names: list[str | None] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that refuses the certificate hangs up mid-request, as it should


@contextlib.contextmanager
def tls_server(issued: Issued, tmp_path: Path) -> Iterator[TLSServer]:
    """Run an HTTPS server presenting `issued` on 127.0.0.1 for the duration of the block."""
    cert_file, key_file = tmp_path / "server.crt", tmp_path / "server.key"
    cert_file.write_bytes(issued.cert)
    key_file.write_bytes(issued.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    ref: list[TLSServer] = []

    def sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        ref[0].names.append(name)

    context.sni_callback = sni

    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def do_GET(self) -> None:
            server = ref[0]
            server.requests.append((self.path, self.headers.get("Host", "")))
            route = server.routes.get(self.path)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if route is None:
                    send(self, b"no route", status=404, content_type="text/plain")
                else:
                    route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    ref.append(TLSServer(port=httpd.server_address[1]))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield ref[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def serve(pki: Pki, tmp_path: Path) -> Iterator[Callable[[str], TLSServer]]:
    """Return a function that starts an HTTPS server with one of the pki's certificates."""
    with contextlib.ExitStack() as stack:

        def start(label: str) -> TLSServer:
            where = tmp_path / f"server-{label}"
            where.mkdir()
            server = stack.enter_context(tls_server(pki.servers[label], where))
            server.routes.update(
                {
                    "/photo.jpg": lambda h: send(h, JPEG, content_type="image/jpeg"),
                    "/redirect": lambda h: redirect(h, server.url("/photo.jpg")),
                    "/again": lambda h: redirect(h, "/photo.jpg"),
                    "/to-metadata": lambda h: redirect(h, "https://internal.test/latest/"),
                    "/to-private": lambda h: redirect(
                        h, f"https://internal.test:{server.port}/photo.jpg"
                    ),
                    "/page.html": lambda h: send(h, PAGE, content_type="text/html"),
                    "/clip.mp4": lambda h: send(h, CLIP, content_type="video/mp4"),
                }
            )
            return server

        yield start


@pytest.fixture
def trusted(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the client trust the throwaway CA through SSL_CERT_FILE, as an operator would."""
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(pki.ca)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@dataclass
class Dns:
    """The guard's resolver: each name answers its addresses in turn, the last one thereafter."""

    answers: dict[str, list[str]]
    asked: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.answers:
            raise FetchFailed(f"could not resolve {host}", details={"host": host})
        turn = min(self.asked.count(host), len(self.answers[host])) - 1
        return [ipaddress.ip_address(self.answers[host][turn])]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Dns:
    """Make evidence.test resolve to 127.0.0.1 and internal.test to 10.0.0.1, for the guard only."""
    stub = Dns({HOST: ["127.0.0.1"], "internal.test": ["10.0.0.1"]})
    monkeypatch.setattr(guard, "resolve", stub.resolve)
    return stub


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the host of every connection urllib3 opens (and still open it)."""
    opened: list[str] = []
    real = urllib3.util.connection.create_connection

    def spy(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append(address[0])
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    return opened


def test_it_fetches_over_https_from_the_vetted_address(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
) -> None:
    server = serve("good")
    fetched = http_fetch.run(
        server.url("/photo.jpg"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path
    )
    assert fetched.path.read_bytes() == JPEG
    assert fetched.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert fetched.address == "127.0.0.1"
    assert fetched.final_url == server.url("/photo.jpg")
    assert server.names == [HOST]  # SNI: the name, not the address
    assert server.requests == [("/photo.jpg", f"{HOST}:{server.port}")]
    assert connections == ["127.0.0.1"]  # the vetted address: no second lookup of the name
    assert dns.asked == [HOST]


def test_it_follows_an_https_redirect_keeping_the_name(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
) -> None:
    server = serve("good")
    fetched = http_fetch.run(server.url("/redirect"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path)
    assert fetched.path.read_bytes() == JPEG
    assert [(hop.url, hop.status) for hop in fetched.chain] == [(server.url("/redirect"), 302)]
    assert server.names == [HOST, HOST]
    host = f"{HOST}:{server.port}"
    assert server.requests == [("/redirect", host), ("/photo.jpg", host)]
    assert connections == ["127.0.0.1", "127.0.0.1"]


def test_it_trusts_no_ca_it_was_not_given(
    serve: Callable[[str], TLSServer], dns: Dns, tmp_path: Path
) -> None:
    server = serve("good")
    with pytest.raises(FetchFailed, match="certificate verify failed"):
        http_fetch.run(server.url("/photo.jpg"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path)
    assert server.requests == []


@pytest.mark.parametrize(("label", "why"), BAD_CERTIFICATES)
def test_it_refuses_a_certificate_that_does_not_prove_the_name(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    tmp_path: Path,
    label: str,
    why: str,
) -> None:
    server = serve(label)
    with pytest.raises(FetchFailed, match=why) as caught:
        http_fetch.run(server.url("/photo.jpg"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path)
    assert caught.value.details["url"] == server.url("/photo.jpg")
    assert server.names == [HOST]
    assert server.requests == []  # no request sent, so no bytes received
    assert list(tmp_path.glob("fetch-*")) == []


@pytest.mark.parametrize(
    ("path", "address"), [("/to-private", "10.0.0.1"), ("/to-metadata", "169.254.169.254")]
)
def test_it_refuses_an_https_redirect_to_an_internal_name_before_connecting(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
    path: str,
    address: str,
) -> None:
    dns.answers["internal.test"] = [address]
    server = serve("good")
    with pytest.raises(FetchRefused) as caught:
        http_fetch.run(server.url(path), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path)
    assert caught.value.details["address"] == address
    assert dns.asked == [HOST, "internal.test"]
    assert connections == ["127.0.0.1"]  # the first hop only
    assert server.requests == [(path, f"{HOST}:{server.port}")]


def test_it_connects_to_the_first_answer_when_dns_rebinds(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
) -> None:
    dns.answers[HOST] = ["127.0.0.1", "10.0.0.1"]
    server = serve("good")
    fetched = http_fetch.run(
        server.url("/photo.jpg"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path
    )
    assert fetched.path.read_bytes() == JPEG
    assert dns.asked == [HOST]
    assert connections == ["127.0.0.1"]
    assert server.requests == [("/photo.jpg", f"{HOST}:{server.port}")]


def test_it_refuses_a_redirect_hop_when_dns_rebinds_to_an_internal_address(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
) -> None:
    dns.answers[HOST] = ["127.0.0.1", "10.0.0.1"]
    server = serve("good")
    with pytest.raises(FetchRefused) as caught:
        http_fetch.run(server.url("/again"), limits=FAST, allow=LOOPBACK, tmp_dir=tmp_path)
    assert caught.value.details["address"] == "10.0.0.1"
    assert connections == ["127.0.0.1"]
    assert server.requests == [("/again", f"{HOST}:{server.port}")]


def test_it_downloads_a_video_over_https_from_the_vetted_address(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    connections: list[str],
    tmp_path: Path,
) -> None:
    server = serve("good")
    downloaded = ytdlp.run(server.url("/page.html"), tmp_dir=tmp_path, limits=FAST, allow=LOOPBACK)
    assert downloaded.path.read_bytes() == CLIP
    assert downloaded.sha256 == hashlib.sha256(CLIP).hexdigest()
    assert downloaded.requests == (server.url("/page.html"), server.url("/clip.mp4"))
    host = f"{HOST}:{server.port}"
    assert server.requests == [("/page.html", host), ("/clip.mp4", host)]
    assert set(server.names) == {HOST}
    assert set(connections) == {"127.0.0.1"}
    assert set(dns.asked) == {HOST}
    downloaded.discard()


@pytest.mark.parametrize(("label", "why"), BAD_CERTIFICATES)
def test_it_refuses_a_video_page_whose_certificate_does_not_prove_the_name(
    serve: Callable[[str], TLSServer],
    trusted: None,
    dns: Dns,
    tmp_path: Path,
    label: str,
    why: str,
) -> None:
    server = serve(label)
    with pytest.raises(FetchFailed, match=why):
        ytdlp.run(server.url("/page.html"), tmp_dir=tmp_path, limits=FAST, allow=LOOPBACK)
    assert server.requests == []
    assert set(server.names) == {HOST}
    assert list(tmp_path.glob("ytdlp-*")) == []
