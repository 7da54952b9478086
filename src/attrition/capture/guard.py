"""The SSRF guard: a capture fetches only http(s) URLs whose every address is public.

Each hop of a redirect chain is vetted again, and the fetch connects to the address vetted here
(never resolving the name a second time), so DNS cannot answer differently between the two.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from attrition import config
from attrition.capture.errors import FetchFailed, FetchRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}

# Never fetched, whatever ATTRITION_FETCH_ALLOW says: instance metadata holds cloud credentials.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
# Ranges Python's flags do not all cover, with why each is refused.
FORBIDDEN_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network'"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("198.18.0.0/15", "benchmarking"),
        ("240.0.0.0/4", "reserved"),
    )
)
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# A host made only of numbers, as inet_aton reads them: 2130706433, 0x7f.1, 0177.0.0.1.
NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
DOTTED_QUAD = re.compile(r"^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}$")


@dataclass(frozen=True)
class Target:
    """A vetted URL: its parts, and the one address the fetch must connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def host_header(self) -> str:
        """Return the Host header for this target: the name, and the port unless the default."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


def embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(int(address))
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Return why the guard refuses to connect to an address, or None if it is public."""
    if address in METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_v4(address)
        if inner is not None:
            why = address_refusal(inner)
            return f"an IPv6 form of {inner}, {why}" if why else None
        if address.scope_id:
            return "a scoped (link-local) address"
    if isinstance(address, ipaddress.IPv4Address) and not address.is_unspecified:
        for net, why in FORBIDDEN_V4:
            if address in net:
                return f"in {net} ({why})"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
    )
    for flagged, why in checks:
        if flagged:
            return why
    if not address.is_global:
        return "not a public address"
    return None


def allowed(address: IPAddress, allow: Sequence[Network]) -> bool:
    """Return whether an address (or the IPv4 address it embeds) is in the allow-list."""
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and (inner := embedded_v4(address)):
        candidates.append(inner)
    return any(a in net for a in candidates for net in allow if a.version == net.version)


def address_check(address: IPAddress, *, allow: Sequence[Network], url: str) -> None:
    """Raise FetchRefused unless the address is public or allowed (never metadata)."""
    why = address_refusal(address)
    if why is None:
        return
    if address not in METADATA and allowed(address, allow):
        return
    raise FetchRefused(
        f"refused to fetch {url}: {address} is {why}",
        details={"url": url, "address": str(address), "reason": why},
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Return every address the host resolves to (A and AAAA), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(
            f"could not resolve {host}: {exc}", details={"host": host, "reason": str(exc)}
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def url_vet(url: str, *, allow: Sequence[Network] | None = None) -> Target:
    """Return the target to connect to for a URL, or raise FetchRefused if it may not be fetched."""
    allow = config.FETCH_ALLOW.read() if allow is None else allow
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"refused to fetch {url!r}: {exc}", details={"url": url}) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(
            f"refused to fetch {url!r}: only http and https URLs are fetched",
            details={"url": url, "reason": "scheme"},
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"refused to fetch {url!r}: it has no host", details={"url": url})
    if NUMERIC_HOST.match(host) and not DOTTED_QUAD.match(host):
        raise FetchRefused(
            f"refused to fetch {url!r}: {host} is an IPv4 address in an unusual spelling",
            details={"url": url, "reason": "numeric host"},
        )
    port = port or DEFAULT_PORTS[scheme]
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchRefused(
                f"refused to fetch {url!r}: {host!r} is not a valid host name",
                details={"url": url},
            ) from None
    addresses = [literal] if literal is not None else resolve(host, port)
    if not addresses:
        raise FetchFailed(f"{host} resolved to no address", details={"host": host})
    for address in addresses:
        address_check(address, allow=allow, url=url)
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
