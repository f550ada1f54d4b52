"""Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).

The browser's subscription is the channel: its endpoint URL is `Channel.address`, its p256dh
and auth keys are `Channel.push_keys`. Without VAPID keys in the settings push is off, and a
push channel fails permanently with a reason a person can read: email stays the fallback
(not every phone can receive web push, USERS.md).
"""

import base64
import hashlib
import json
from functools import lru_cache

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid02, VapidException
from py_vapid.utils import b64urlencode
from pywebpush import WebPushException, webpush

from reminders.channels.base import Commit, OutboundMessage, PermanentDeliveryError, Transport
from reminders.channels.http_errors import network_failure, status_failure

NOT_CONFIGURED = "push is not configured on this server"
# A push service accepts about 4 KB of ciphertext; keep the clear text well inside it.
PAYLOAD_LIMIT = 3000
URGENCY = "high"  # a dose reminder is time-sensitive: let it wake a sleeping phone


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
        subscription = {"endpoint": message.to, "keys": {k: keys[k] for k in ("p256dh", "auth")}}
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


class _CommitBeforePost(requests.Session):
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
        if isinstance(exc, WebPushException) and exc.response is not None:
            raise status_failure(
                exc.status_code, exc.response.text, provider="push service"
            ) from exc
        if self.stage == "posting" and isinstance(exc, requests.RequestException):
            return network_failure(exc, provider="push service")
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
