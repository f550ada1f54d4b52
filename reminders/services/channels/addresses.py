"""What a person types for a channel, checked and put in the one form that is stored: an
email address, a phone number (E.164), a browser's push subscription."""

import base64
import binascii
import contextlib
import json
import re

from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from reminders.channels.push import endpoint_normalised
from reminders.models import Channel

_LETTERS = re.compile(r"[^\W\d_]")
_PHONE_PUNCTUATION = re.compile(r"[\s\-()\[\]]")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_ENDPOINT_MAX = Channel._meta.get_field("address").max_length


def normalise_email(address: str) -> str:
    """The address as typed, with its domain in lower case (domains ignore case)."""
    text = _text(address, "email address")
    if not text:
        raise ValidationError("Enter an email address.")
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            "“%(address)s” is not a valid email address.", params={"address": text}
        ) from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(phone: str) -> str:
    """E.164: "+", then the country code and number, 8 to 15 digits in all. Spaces, dashes
    and brackets people type are dropped."""
    text = _text(phone, "phone number")
    if not text:
        raise ValidationError("Enter a phone number.")
    if _LETTERS.search(text):
        raise ValidationError(
            "A phone number cannot contain letters: “%(phone)s”.", params={"phone": text}
        )
    compact = _PHONE_PUNCTUATION.sub("", text)
    if not compact.startswith("+"):
        raise ValidationError(
            "Enter the phone number in international format, starting with + and the "
            "country code, e.g. +44 7700 900123."
        )
    digits = compact[1:]
    if not re.fullmatch(r"[0-9]*", digits):
        raise ValidationError(
            "A phone number can only contain digits after the +, with spaces, dashes or "
            "brackets between them: “%(phone)s”.",
            params={"phone": text},
        )
    if not 8 <= len(digits) <= 15:
        raise ValidationError(
            "A phone number in international format has 8 to 15 digits after the +; "
            "“%(phone)s” has %(count)d.",
            params={"phone": text, "count": len(digits)},
        )
    if digits.startswith("0"):
        raise ValidationError(
            "After the + comes the country code, which never starts with 0: “%(phone)s”.",
            params={"phone": text},
        )
    return "+" + digits


def parse_push_subscription(subscription: dict | str) -> tuple[str, dict[str, str]]:
    """The endpoint URL and the {p256dh, auth} keys of a browser's push subscription."""
    if isinstance(subscription, str):
        _text(subscription, "push subscription")
        try:
            subscription = json.loads(subscription)
        except ValueError:
            raise ValidationError("The push subscription is not valid JSON.") from None
    if not isinstance(subscription, dict):
        raise ValidationError(
            "The push subscription must be a JSON object with an endpoint and keys."
        )
    endpoint = _push_endpoint(subscription.get("endpoint"))
    keys = subscription.get("keys")
    if not isinstance(keys, dict):
        raise ValidationError("The push subscription has no keys (p256dh and auth).")
    p256dh = _key_bytes(keys, "p256dh")
    if len(p256dh) != 65 or p256dh[0] != 0x04:
        raise ValidationError(
            "The push subscription's p256dh key must be an uncompressed P-256 public key "
            "(65 bytes starting with 0x04)."
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError:
        raise ValidationError(
            "The push subscription's p256dh key is not a point on the P-256 curve."
        ) from None
    auth = _key_bytes(keys, "auth")
    if len(auth) != 16:
        raise ValidationError(
            "The push subscription's auth secret must be 16 bytes; it is %(count)d.",
            params={"count": len(auth)},
        )
    return endpoint, {"p256dh": _b64url(p256dh), "auth": _b64url(auth)}


def _push_endpoint(endpoint: object) -> str:
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationError("The push subscription has no endpoint URL.")
    # The one form that is stored, and later sent to exactly as stored (push.py).
    endpoint = endpoint_normalised(_text(endpoint, "push endpoint"))
    if len(endpoint) > _ENDPOINT_MAX:
        raise ValidationError(
            "The push subscription's endpoint is longer than %(max)d characters.",
            params={"max": _ENDPOINT_MAX},
        )
    return endpoint


def push_endpoints_matching(endpoint: object) -> list[str]:
    """The stored addresses a browser's endpoint may have: as it sends it, and normalised."""
    if not isinstance(endpoint, str) or not endpoint or "\x00" in endpoint:
        return []
    with contextlib.suppress(ValidationError):
        return list({endpoint, endpoint_normalised(endpoint.strip())})
    return [endpoint]


def _key_bytes(keys: dict, name: str) -> bytes:
    value = keys.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError("The push subscription has no %(name)s key.", params={"name": name})
    if not _BASE64URL.fullmatch(value):
        raise ValidationError(
            "The push subscription's %(name)s key is not base64url text.", params={"name": name}
        )
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError(
            "The push subscription's %(name)s key is not base64url text.", params={"name": name}
        ) from None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError("The %(what)s must be text.", params={"what": what})
    if "\x00" in value:
        # PostgreSQL cannot store a NUL byte in text; no real address has one.
        raise ValidationError("The %(what)s contains a NUL byte.", params={"what": what})
    return value.strip()
