"""Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).

The browser's subscription is the channel: its endpoint URL is `Channel.address`, its p256dh
and auth keys are `Channel.push_keys`. Without VAPID keys in the settings push is off, and a
push channel fails permanently with a reason a person can read: email stays the fallback
(not every phone can receive web push, USERS.md).

The endpoint is where this server POSTs, and a patient chooses it, so it is read once by
`endpoint_normalised` (strictly: https, a push service's host name, port 443, nothing a URL
parser could read two ways) and that exact string is stored and sent, through the session of
outbound.py, which checks the host and its addresses again as it connects.
"""

import base64
import hashlib
import ipaddress
import json
import logging
import re
from functools import lru_cache
from typing import NoReturn

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from py_vapid import Vapid02, VapidException
from py_vapid.utils import b64urlencode
from pywebpush import WebPushException, webpush

from reminders.channels import outbound
from reminders.channels.base import Commit, OutboundMessage, PermanentDeliveryError, Transport
from reminders.channels.http_errors import network_failure, status_failure

log = logging.getLogger(__name__)

NOT_CONFIGURED = "push is not configured on this server"
PROVIDER = "push service"
# A push service accepts about 4 KB of ciphertext; keep the clear text well inside it.
PAYLOAD_LIMIT = 3000
URGENCY = "high"  # a dose reminder is time-sensitive: let it wake a sleeping phone
# What a push service's answer means (RFC 8030 section 8; FCM, Mozilla, WNS, Apple agree).
MEANINGS = {
    401: "it did not accept this server's signature (the VAPID keys)",
    403: "it did not accept this server's signature (the VAPID keys)",
    404: "this browser unsubscribed",
    410: "this browser unsubscribed",
    413: "the message was too large",
}

_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>[^#]*)(?P<fragment>#.*)?",
    re.IGNORECASE | re.DOTALL,
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
# RFC 3986 path and query characters, less "@" (refused everywhere, see below).
_PATH = re.compile(r"(?:[/?](?:[A-Za-z0-9._~!$&'()*+,;=:/?-]|%[0-9A-Fa-f]{2})*)?")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x21-\x7e]")
_LOOPBACK_ENDPOINT_HOSTS = {"127.0.0.1", "localhost"}


def endpoint_normalised(endpoint: str) -> str:
    """The one form of a push endpoint this server stores and sends to, or a ValidationError
    that names what is wrong.

    Two URL parsers can read one string as two hosts (urllib3 ends a host at a backslash,
    urlsplit does not: https://127.0.0.1\\@fcm.googleapis.com/ passed the old check and was
    sent to 127.0.0.1). So whatever a parser might read differently is refused outright:
    anything but printable ASCII, backslashes, an "@" anywhere, a fragment, an IP address, a
    port other than 443; the scheme is https and the host a push service's name, in lower
    case. Browsers' endpoints never have any of these. With OUTBOUND_ALLOW_LOOPBACK (tests
    only), http and any port on 127.0.0.1 or localhost are accepted as well."""
    if _NOT_PRINTABLE_ASCII.search(endpoint):
        _refuse(
            "contains a space, a control character or a character outside ASCII, which no "
            "push service's address has."
        )
    if "\\" in endpoint:
        _refuse("contains a backslash (\\), which no push service's address has.")
    match = _URL.fullmatch(endpoint)
    if match is None or not match["authority"]:
        _refuse("is not a valid URL: “%(url)s”.", url=endpoint[:200])
    if "@" in endpoint:
        _refuse(
            "contains an @ (as in a user name before the host), which no push service's "
            "address has."
        )
    if match["fragment"] is not None:
        _refuse("has a fragment (#…), which no push service's address has.")
    scheme, host, port = match["scheme"].lower(), *_host_and_port(match["authority"])
    if not _PATH.fullmatch(match["rest"]):
        _refuse("has characters a URL cannot have in its path.")
    path = match["rest"] if match["rest"].startswith("/") else "/" + match["rest"]
    if (
        outbound.loopback_allowed()
        and host in _LOOPBACK_ENDPOINT_HOSTS
        and scheme in ("http", "https")
    ):
        return f"{scheme}://{host}{f':{port}' if port else ''}{path}"
    if scheme != "https":
        _refuse("must be an https:// URL: “%(url)s”.", url=endpoint[:200])
    if _is_ip_address(host):
        _refuse("is an IP address (“%(host)s”); push services are reached by name.", host=host)
    if not _HOST_NAME.fullmatch(host):
        _refuse("has a host that is not a valid name: “%(host)s”.", host=host[:200])
    if port not in (None, outbound.HTTPS_PORT):
        _refuse("uses port %(port)s; push services use the https port, 443.", port=port)
    if not outbound.is_push_service(host):
        # The server POSTs to this address: only browsers' push services are accepted.
        _refuse("is not a known browser push service: “%(host)s”.", host=host)
    return f"https://{host}{path}"


def _host_and_port(authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        _refuse(
            "is an IP address (“%(host)s”); push services are reached by name.", host=authority[:60]
        )
    host, colon, port = authority.lower().partition(":")
    if not colon:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        _refuse("has a port that is not a number from 1 to 65535: “%(port)s”.", port=port[:20])
    return host, int(port)


def _is_ip_address(host: str) -> bool:
    # Numeric final labels cover the forms inet_aton also takes (0x7f.1, 2130706433).
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(r"(?:.*\.)?(?:0x[0-9a-f]*|[0-9]+)\.?", host))
    return True


def _refuse(problem: str, **params) -> NoReturn:
    raise ValidationError("The push subscription's endpoint " + problem, params=params or None)


def topic_for(idempotency_key: str) -> str:
    """The Topic header (RFC 8030, 5.4): at most 32 base64url characters. A push service
    holding an undelivered message with the same topic replaces it, so a repeat collapses."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def payload_for(message: OutboundMessage, tag: str) -> bytes:
    body = message.text
    while True:
        data = json.dumps(
            {"title": message.subject, "body": body, "url": message.url, "tag": tag},
            ensure_ascii=False,
        ).encode()
        if len(data) <= PAYLOAD_LIMIT or not body:
            return data
        body = body[: len(body) * 3 // 4].rstrip() + "…"


class PushTransport(Transport):
    def deliver(self, message: OutboundMessage, *, commit: Commit) -> str:
        vapid = configured_vapid()
        keys = message.push_keys or {}
        if not message.to or not keys.get("p256dh") or not keys.get("auth"):
            raise PermanentDeliveryError("the push subscription has no endpoint or keys")
        try:
            # Rows stored before endpoints were normalised are checked as a new one would be.
            endpoint = endpoint_normalised(message.to)
        except ValidationError as exc:
            raise PermanentDeliveryError(" ".join(exc.messages)) from None
        subscription = {"endpoint": endpoint, "keys": {k: keys[k] for k in ("p256dh", "auth")}}
        topic = topic_for(message.idempotency_key) if message.idempotency_key else ""
        headers = {"Urgency": URGENCY, **({"Topic": topic} if topic else {})}
        session = _CommitBeforePost(commit)
        try:
            with session:
                response = webpush(
                    subscription,
                    data=payload_for(message, topic).decode(),
                    vapid_private_key=vapid,
                    # webpush writes aud and exp into the dict it is given: a fresh one each time.
                    vapid_claims={"sub": settings.VAPID_SUBJECT},
                    ttl=settings.PUSH_TTL_SECONDS,
                    headers=headers,
                    timeout=settings.PUSH_TIMEOUT,
                    requests_session=session,
                )
        except Exception as exc:
            return session.failure(exc)
        return response.headers.get("Location", "")[:255]


class _CommitBeforePost(outbound.Session):
    """Calls `commit()` at the last moment: the payload is encrypted and signed, the POST is
    about to go. An error before this point means nothing was sent."""

    def __init__(self, commit: Commit) -> None:
        super().__init__()
        self._commit = commit
        self.stage = "preparing"

    def post(self, url, data=None, json=None, **kwargs):
        self.stage = "committing"
        self._commit()
        self.stage = "posting"
        return super().post(url, data=data, json=json, **kwargs)

    def failure(self, exc: Exception) -> str:
        if self.stage == "committing":
            raise exc  # commit() itself failed: the send service's own error, unchanged
        if isinstance(exc, outbound.OutboundRefused):
            raise PermanentDeliveryError(f"nothing was sent to the {PROVIDER}: {exc}") from exc
        if isinstance(exc, WebPushException) and exc.response is not None:
            # The exception's own text carries the answer's body: only its status is used.
            raise status_failure(
                exc.status_code,
                provider=PROVIDER,
                body=getattr(exc.response, "text", ""),
                meanings=MEANINGS,
            ) from None
        if self.stage == "posting" and isinstance(exc, outbound.RequestException):
            return network_failure(exc, provider=PROVIDER)
        if isinstance(exc, VapidException):
            raise PermanentDeliveryError(f"{NOT_CONFIGURED}: {exc}") from exc
        if self.stage == "preparing" and isinstance(
            exc, WebPushException | ValueError | TypeError | LookupError
        ):
            # The stored subscription cannot be encrypted to (bad p256dh, no auth).
            raise PermanentDeliveryError(f"the push subscription is unusable: {exc}") from exc
        raise exc


def configured_vapid() -> Vapid02:
    """The server's VAPID key, or a permanent error that says push is off."""
    if not settings.VAPID_PRIVATE_KEY or not settings.VAPID_SUBJECT:
        raise PermanentDeliveryError(NOT_CONFIGURED)
    try:
        vapid = vapid_from(settings.VAPID_PRIVATE_KEY)
    except (ValueError, TypeError, VapidException):
        raise PermanentDeliveryError(
            f"{NOT_CONFIGURED}: VAPID_PRIVATE_KEY cannot be read"
        ) from None
    if settings.VAPID_PUBLIC_KEY and settings.VAPID_PUBLIC_KEY.rstrip("=") != public_key_of(vapid):
        # Browsers subscribed with the public key; a push signed by another key is refused.
        raise PermanentDeliveryError(
            f"{NOT_CONFIGURED}: VAPID_PUBLIC_KEY does not match VAPID_PRIVATE_KEY"
        )
    return vapid


@lru_cache(maxsize=4)
def vapid_from(private_key: str) -> Vapid02:
    """A VAPID key from PEM text (newlines may be written as \\n in an env file) or from the
    base64url raw 32-byte key that `manage.py vapid_keys` prints."""
    text = private_key.strip().replace("\\n", "\n")
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("a VAPID key is an EC key on the P-256 curve")
        return Vapid02(key)
    return Vapid02.from_string(text)


def public_key_of(vapid: Vapid02) -> str:
    """The base64url public key the browser passes to pushManager.subscribe()."""
    return b64urlencode(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def new_key_pair() -> tuple[str, str]:
    """A fresh (private, public) VAPID pair, both base64url, for the environment."""
    vapid = Vapid02()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64urlencode(raw), public_key_of(vapid)
