"""Every HTTP request the app makes leaves through this module: web push and the SMS provider.

A patient chooses the push endpoint the worker POSTs to, and any host name can resolve to any
address. So, against server-side request forgery:

- A request goes only to a configured destination: a browser push service (a host or suffix of
  PUSH_SERVICE_HOSTS) over https on port 443, or the scheme, host and port of SMS_HTTP_URL.
  This is checked on the host urllib3 is about to connect to, not on a parse of the URL that
  another parser might read differently (a backslash ends urllib3's host, not urlsplit's).
- The connection is opened here: the name is resolved once, every address it gives must be a
  public internet address, and the socket connects to an address that was checked, so a second
  lookup (DNS rebinding) cannot send it elsewhere. TLS still verifies the certificate against
  the host name (urllib3 wraps the socket after `_new_conn`, with the name as SNI).
- Redirects are not followed, and no proxy or .netrc is taken from the environment: each would
  send the request somewhere that was not checked.

OUTBOUND_ALLOW_LOOPBACK is for the test suite only: its fake push services and SMS providers
listen on 127.0.0.1. With it on, a loopback host (127.0.0.1, localhost, ::1) is a destination on
any port, over http too, and loopback addresses may be connected to. Nothing else changes:
private, link-local and other non-public addresses stay refused.

No other module of the app imports an HTTP client (tests/reminders/test_outbound.py checks).
"""

import ipaddress
import logging
import socket
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

log = logging.getLogger(__name__)

RequestException = requests.RequestException
Response = requests.Response

HTTPS_PORT = 443
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_INET = (socket.AF_INET, socket.AF_INET6)
# Public by Python's reckoning but able to reach a private network: 6to4 and NAT64 carry any
# IPv4 address inside them (translated by the local network), 192.88.99.0/24 is the 6to4
# relay, 192.0.0.0/24 holds protocol assignments. (Python 3.11 also calls multicast global.)
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.0.0/24",
        "192.88.99.0/24",
        "2002::/16",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2001::/32",
    )
)


class OutboundRefused(Exception):
    """A request this server will not send. The message is our own words, fit to show."""


def is_push_service(host: str) -> bool:
    """A browser push service's host: one of PUSH_SERVICE_HOSTS exactly, or under one that
    starts with a dot (".push.apple.com" takes web.push.apple.com and push.apple.com)."""
    host = host.lower().rstrip(".")
    for allowed in settings.PUSH_SERVICE_HOSTS:
        allowed = allowed.lower()
        if allowed.startswith(".") and (host.endswith(allowed) or host == allowed[1:]):
            return True
        if host == allowed:
            return True
    return False


def is_loopback_host(host: str) -> bool:
    return host.lower().rstrip(".").strip("[]") in LOOPBACK_HOSTS


def loopback_allowed() -> bool:
    return bool(settings.OUTBOUND_ALLOW_LOOPBACK)


def destination_allowed(scheme: str, host: str, port: int | None) -> bool:
    """Whether this server may send a request to scheme://host:port at all."""
    host = host.lower().rstrip(".").strip("[]")
    if loopback_allowed() and is_loopback_host(host):
        return True
    if scheme == "https" and port in (None, HTTPS_PORT) and is_push_service(host):
        return True
    # The SMS provider over https only: its bearer token and the patients' numbers go in it.
    return scheme == "https" and (scheme, host, port or HTTPS_PORT) == _sms_origin(
        settings.SMS_HTTP_URL
    )


@lru_cache(maxsize=4)
def _sms_origin(url: str) -> tuple[str, str, int] | None:
    # A URL the two parsers read differently has no origin here, so nothing matches it.
    if not url or "\\" in url:
        return None
    parts = urlsplit(url)
    try:
        return parts.scheme.lower(), (parts.hostname or "").rstrip("."), parts.port or HTTPS_PORT
    except ValueError:
        return None


def is_public_address(address: str) -> bool:
    """A global unicast address: not loopback, private, link-local, multicast, reserved,
    unspecified, shared (100.64/10) or a tunnel that can lead back inside (see _NOT_PUBLIC).
    An IPv4-mapped IPv6 address is judged by the IPv4 address it carries."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_private:
        return False
    return not any(ip in net for net in _NOT_PUBLIC if net.version == ip.version)


def is_loopback_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def checked_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, once; refused unless each of them may be reached.
    One bad address refuses them all: a push service has no reason to list a private one."""
    infos = socket.getaddrinfo(
        host.strip("[]"), port, connection.allowed_gai_family(), socket.SOCK_STREAM
    )
    addresses = list(dict.fromkeys(info[4][0] for info in infos if info[0] in _INET))
    for address in addresses:
        if is_public_address(address):
            continue
        if loopback_allowed() and is_loopback_address(address):
            continue
        log.warning("outbound request to %s refused: it resolves to %s", host, address)
        raise OutboundRefused(f"{host} resolves to an address that is not on the public internet")
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no internet address")
    return addresses


class _Guarded:
    """Mixed into urllib3's connections: the only place a socket to a provider is opened."""

    outbound_scheme = ""

    def _new_conn(self) -> socket.socket:
        host, port = self.host, self.port
        if not destination_allowed(self.outbound_scheme, host, port):
            log.warning("outbound request to %s://%s:%s refused", self.outbound_scheme, host, port)
            raise OutboundRefused(f"{host} is not a push service or SMS provider of this server")
        try:
            addresses = checked_addresses(self._dns_host, port)
        except OSError as exc:
            raise NameResolutionError(host, self, exc) from exc
        error: OSError | None = None
        for address in addresses:
            try:
                # An address literal: getaddrinfo parses it and asks no name server.
                return connection.create_connection(
                    (address, port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                error = exc
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(self, f"connection to {host} timed out") from error
        raise NewConnectionError(self, f"cannot connect to {host}: {error}") from error


class _HTTPConnection(_Guarded, HTTPConnection):
    outbound_scheme = "http"


class _HTTPSConnection(_Guarded, HTTPSConnection):
    outbound_scheme = "https"


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise OutboundRefused("requests to push services and SMS providers use no proxy")


class Session(requests.Session):
    """A requests session that can only reach the configured providers (see above)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no proxy or .netrc from the environment
        adapter = _Adapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None  # a redirect is an answer like any other: the caller sees its status


def post(url: str, **kwargs) -> requests.Response:
    with Session() as session:
        return session.post(url, **kwargs)


def never_sent(exc: BaseException) -> bool:
    """True when a request failed before any of it could reach the provider: it was refused
    here, or the connection was refused, timed out, or its TLS handshake failed."""
    if isinstance(exc, OutboundRefused | requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # urllib3's NewConnectionError (refused, no route, unknown host) is a ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError)


def what_failed(exc: BaseException) -> str:
    """Why a request failed, in our own words (an exception's text names hosts and internals,
    which go to the log, not to the reason a person reads)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, OutboundRefused):
        return str(exc)
    if isinstance(reason, NameResolutionError):
        return "its name could not be resolved"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the secure connection failed"
    if isinstance(reason, NewConnectionError):
        refused = isinstance(reason.__cause__, ConnectionRefusedError)
        return "the connection was refused" if refused else "the connection failed"
    if isinstance(exc, requests.Timeout) or isinstance(reason, ConnectTimeoutError):
        return "the connection timed out"
    return "the connection failed"
