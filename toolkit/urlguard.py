"""Outbound HTTP(S) for project URLs, refusing link-local and cloud metadata addresses.

A URL in a project (a file extractor's ``url:``) is fetched by the platform, inside its
network: without a guard it reaches the cloud's instance metadata service and whatever
answers on a link-local address. ``open_url`` resolves the host once, checks every address
it resolves to and connects to exactly the address checked (a DNS answer that changes
between check and connect cannot slip through); a redirect is a new request through the
same check. Loopback and private networks stay allowed (a source on the same host or in
the same network is ordinary); ``security: {allow_urls_to: [...]}`` in ``project.yaml``
allows a refused network explicitly. No proxy is used: the check must see the real peer.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Sequence
from typing import Any

from headrace.errors import ConfigError
from headrace.paths import PROJECT_FILE

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local, with 169.254.169.254: AWS, GCP, Azure, OpenStack metadata
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/32",  # "this host": reaches loopback services under another name
        "::/128",
    )
)
METADATA_NAMES = {"metadata.google.internal", "metadata.goog", "metadata.azure.internal"}
METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")


class AddressRefused(ConfigError):
    """A URL whose host is, or resolves to, an address the project does not allow."""


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _plain(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries: ``::ffff:169.254.169.254``, 6to4 and NAT64 forms."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


class UrlPolicy:
    def __init__(self, allow: Sequence[str] = ()):
        self.allow = tuple(ipaddress.ip_network(n, strict=False) for n in allow)

    def refused(self, address: IPAddress) -> bool:
        address = _plain(address)
        if any(address in n for n in self.allow if n.version == address.version):
            return False
        return any(address in n for n in REFUSED if n.version == address.version)

    def _refuse(self, host: str, address: IPAddress) -> AddressRefused:
        return AddressRefused(
            f"{host}: {_plain(address)} is a link-local or cloud metadata address; "
            "Headrace does not fetch URLs from it "
            f"(to allow it, add the network to security.allow_urls_to in {PROJECT_FILE})"
        )

    def check_host(self, host: str) -> None:
        """Refuse a host that is, by name or literal address, a refused one (no DNS lookup)."""
        name = host.strip("[]").rstrip(".").lower()
        if name in METADATA_NAMES and self.refused(METADATA_ADDRESS):
            raise self._refuse(host, METADATA_ADDRESS)
        try:
            literal = ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            return
        if self.refused(literal):
            raise self._refuse(host, literal)

    def connect(self, address: tuple[str, int], timeout: Any, source_address: Any = None) -> socket.socket:
        """``socket.create_connection`` that checks every resolved address and connects to a checked one."""
        host, port = address
        self.check_host(host)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for *_, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            if self.refused(ip):
                raise self._refuse(host, ip)
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"{host}: no address")


def _connection(base: type[http.client.HTTPConnection], policy: UrlPolicy) -> Any:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        conn = base(host, **kwargs)
        conn._create_connection = policy.connect  # type: ignore[attr-defined]
        return conn

    return make


class _Http(urllib.request.HTTPHandler):
    def __init__(self, policy: UrlPolicy):
        super().__init__()
        self.policy = policy

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_connection(http.client.HTTPConnection, self.policy), req)


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, policy: UrlPolicy):
        super().__init__()
        self.policy = policy

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(
            _connection(http.client.HTTPSConnection, self.policy),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


@functools.cache
def _opener(allow: tuple[str, ...]) -> urllib.request.OpenerDirector:
    """http and https only (a redirect to ftp: or file: fails), no proxy, every connection checked."""
    policy = UrlPolicy(allow)
    opener = urllib.request.OpenerDirector()
    for handler in (
        _Http(policy),
        _Https(policy),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def open_url(request: urllib.request.Request, timeout: float, allow: Sequence[str] = ()) -> Any:
    """``urllib.request.urlopen`` through the guard; ``AddressRefused`` for a refused address."""
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    UrlPolicy(allow).check_host(host)
    return _opener(tuple(allow)).open(request, timeout=timeout)
