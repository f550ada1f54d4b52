"""Adding, disabling and removing the channels a person receives reminders on.

Every input is checked before anything is written, so a refused add changes nothing, and
nothing already queued is touched. Adding an address a person already has enables that
channel again instead of making a second one (the database's unique user+kind+address).

An email address or phone number is added unconfirmed and a code is sent to it at once
(services/confirmation.py); one turned back on after it stopped working is confirmed again,
as the code also proves that messages reach it again.
"""

import base64
import binascii
import contextlib
import json
import re
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.throttle import throttle_hit
from clinics.models import Clinic
from reminders.channels.push import endpoint_normalised
from reminders.models import Channel, Reminder
from reminders.services.confirmation import account_email_confirmed, channel_confirmation_send

Kind = Channel.Kind
# The reason a channel its owner removed carries; selectors hide such channels.
REMOVED_BY_OWNER = "removed by its owner"
_LETTERS = re.compile(r"[^\W\d_]")
_PHONE_PUNCTUATION = re.compile(r"[\s\-()\[\]]")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_ENDPOINT_MAX = Channel._meta.get_field("address").max_length


def channel_add_email(*, user, address: str, now: datetime | None = None) -> Channel:
    """Add (or turn back on) an email address; unless it is confirmed already, a code is sent
    to it, and it receives nothing else until the code is typed back."""
    address = normalise_email(address)
    return _add_and_send_code(user=user, kind=Kind.EMAIL, address=address, iexact=True, now=now)


def channel_add_sms(*, user, phone: str, now: datetime | None = None) -> Channel:
    """As `channel_add_email`, for a phone number."""
    phone = normalise_phone(phone)
    return _add_and_send_code(user=user, kind=Kind.SMS, address=phone, now=now)


def _add_and_send_code(
    *, user, kind: str, address: str, now: datetime | None, iexact: bool = False
) -> Channel:
    now = now or timezone.now()
    with transaction.atomic():
        channel = _add_or_enable(user=user, kind=kind, address=address, iexact=iexact, now=now)
        if channel.confirmed_at is None:
            # A code that cannot be sent undoes the add: the person is told, nothing is kept.
            channel = channel_confirmation_send(channel=channel, now=now)
    return channel


def channel_add_push(*, user, subscription: dict | str) -> Channel:
    """A browser's PushSubscription (its toJSON(), as a dict or as JSON text)."""
    endpoint, keys = parse_push_subscription(subscription)
    with transaction.atomic():
        # One browser delivers to whoever subscribed on it last: a previous account's
        # reminders must stop showing up on a device that someone else now uses.
        Channel.objects.filter(kind=Kind.PUSH, address=endpoint, enabled=True).exclude(
            user=user
        ).update(
            enabled=False,
            disabled_at=timezone.now(),
            disabled_reason="This browser now receives another account's notifications.",
        )
        # Confirmed as made: the browser that will receive the notifications made it.
        return _add_or_enable(
            user=user, kind=Kind.PUSH, address=endpoint, push_keys=keys, confirmed=True
        )


def channel_ensure_inbox(*, user) -> Channel:
    """Every person has an in-app inbox; it cannot fail, so it is always on."""
    with transaction.atomic():
        return _add_or_enable(user=user, kind=Kind.INBOX, address="", confirmed=True)


def channel_disable(*, channel: Channel, reason: str, now: datetime) -> Channel:
    """Turn a channel off and say why. Disabling one that is already off keeps the first
    reason and time: that is when it stopped working."""
    reason = " ".join(reason.replace("\x00", "").split())[:255]
    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason=reason
        )
    channel.refresh_from_db()
    return channel


def channel_remove(*, channel: Channel, now: datetime) -> None:
    """Stop using a channel. One that carried reminders is switched off, not deleted, so the
    record of what was sent stays; its waiting reminders are cancelled."""
    if channel.kind == Kind.INBOX:
        raise ValidationError("The in-app inbox cannot be removed: it keeps every reminder.")
    with transaction.atomic():
        if not channel.reminders.exists():
            Channel.objects.filter(pk=channel.pk).delete()
            return
        channel_disable(channel=channel, reason=REMOVED_BY_OWNER, now=now)
        channel.reminders.filter(status=Reminder.Status.PENDING).update(
            status=Reminder.Status.CANCELLED, last_error="channel removed"
        )


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


def _add_or_enable(
    *,
    user,
    kind: str,
    address: str,
    push_keys: dict | None = None,
    iexact: bool = False,
    confirmed: bool = False,
    now: datetime | None = None,
) -> Channel:
    """Create the channel, or enable the person's existing one for the same address.

    `confirmed`: the channel is trusted as made (the inbox, a push subscription, an invited
    person's own address). Otherwise a new one starts unconfirmed, and one that was switched
    off must be confirmed again."""
    now = now or timezone.now()
    match = {"address__iexact": address} if iexact else {"address": address}
    existing = Channel.objects.select_for_update().filter(user=user, kind=kind, **match).first()
    if existing is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent add may win the race
                return Channel.objects.create(
                    user=user,
                    kind=kind,
                    address=address,
                    push_keys=push_keys or {},
                    confirmed_at=now if confirmed else None,
                )
        except IntegrityError:
            existing = Channel.objects.select_for_update().get(
                user=user, kind=kind, address=address
            )
    fields = ["enabled", "disabled_at", "disabled_reason"]
    if not existing.enabled:
        # It stopped working or its owner removed it: the next message must prove it works.
        existing.confirmed_at = now if confirmed else None
        fields.append("confirmed_at")
    existing.enabled = True
    existing.disabled_at = None
    existing.disabled_reason = ""
    if push_keys is not None:
        # The browser may have renewed the subscription's keys for the same endpoint.
        existing.push_keys = push_keys
        fields.append("push_keys")
    existing.save(update_fields=fields)
    return existing


def channels_ensure_defaults(*, user, email_confirmed: bool | None = None) -> list[Channel]:
    """A person with no channels at all gets the in-app inbox and, when their account has an
    address, email: the fallback that works everywhere (USERS.md). Someone who has set up
    channels of their own is left alone.

    The account's address is confirmed when the person joined by an invitation sent to it
    (`email_confirmed` True: data the operator made, the demo's). Otherwise it waits for a
    code the person asks for on their settings page: nobody asked for one yet, so none is
    sent from here."""
    if Channel.objects.filter(user=user).exists():
        return []
    made = [channel_ensure_inbox(user=user)]
    if user.email:
        if email_confirmed is None:
            email_confirmed = account_email_confirmed(user)
        # An unusable account address leaves the inbox, which always works.
        with contextlib.suppress(ValidationError), transaction.atomic():
            address = normalise_email(user.email)
            made.append(
                _add_or_enable(
                    user=user,
                    kind=Kind.EMAIL,
                    address=address,
                    iexact=True,
                    confirmed=email_confirmed,
                )
            )
    return made


# What a person does on their own reminder settings page and inbox ----------------------------
# Appended below the original services, so their own imports are here.
from django.utils.translation import gettext, ngettext  # noqa: E402

# The channels that reach a person away from the app on any phone. Push does not count: it
# reaches one browser only, iPhones get it only from an installed web app, and a push service
# can drop a subscription without telling anyone (USERS.md).
FALLBACK_KINDS = (Kind.EMAIL, Kind.SMS)
_TEST_IN_FLIGHT = (Reminder.Status.PENDING, Reminder.Status.QUEUED, Reminder.Status.SENDING)


def channels_ensure_for_owner(*, user) -> None:
    """Before a person's settings page is shown: the defaults the planner would give them
    (inbox and email) if they have no channel yet, and always an inbox."""
    channels_ensure_defaults(user=user)
    if not Channel.objects.filter(user=user, kind=Kind.INBOX, enabled=True).exists():
        channel_ensure_inbox(user=user)


def channel_remove_by_owner(*, channel: Channel, now: datetime) -> None:
    """`channel_remove`, keeping the fallback: the last working, confirmed email address or
    phone number cannot be removed, so reminders still reach a person whose notifications
    stop. An unconfirmed one receives nothing, so it neither counts as that fallback nor is
    kept: it can always be removed."""
    with transaction.atomic():
        # Locking every channel of the person makes two removals at once take turns, so
        # they cannot each leave the other as the "remaining" fallback.
        mine = list(Channel.objects.select_for_update().filter(user_id=channel.user_id))
        current = next((mine_ for mine_ in mine if mine_.pk == channel.pk), channel)
        if current.is_usable and current.kind in FALLBACK_KINDS:
            others = [
                other
                for other in mine
                if other.is_usable and other.kind in FALLBACK_KINDS and other.pk != current.pk
            ]
            if not others:
                raise ValidationError(
                    gettext(
                        "This is your only confirmed email address or phone number, so it "
                        "stays: reminders must still reach you if notifications on a device "
                        "stop. Add another email address or phone number and confirm it "
                        "first, then remove this one."
                    )
                )
        channel_remove(channel=current, now=now)


def channel_test_notify(*, channel: Channel, now: datetime) -> Reminder:
    """Write a test notification for the outbox to send on this channel, due now.

    It goes through the outbox like every reminder, so it tests what real reminders use (the
    sweep, the worker, the transport, retries) and never keeps a web request waiting on a
    mail or push server. Not urgent: quiet hours hold it, as they hold a dose reminder. While
    one is still waiting, another click returns that one instead of writing a second."""
    if channel.kind == Kind.PUSH and not settings.VAPID_PRIVATE_KEY:
        raise ValidationError(gettext("Browser notifications are not set up on this server."))
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(pk=channel.pk).first()
        if channel is None or not channel.enabled:
            raise ValidationError(
                gettext("This channel is switched off. Turn it back on before testing it.")
            )
        if channel.confirmed_at is None:
            raise ValidationError(
                gettext(
                    "Confirm this channel first: type the code we sent to it. Nothing is sent "
                    "there until then."
                )
            )
        waiting = Reminder.objects.filter(
            channel=channel, kind=Reminder.Kind.TEST, status__in=_TEST_IN_FLIGHT
        ).first()
        if waiting is not None:
            return waiting
        verdict = throttle_hit(
            "test-message-user",
            str(channel.user_id),
            limit=settings.TEST_MESSAGE_LIMIT_PER_USER,
            now=now,
        )
        if not verdict.allowed:
            raise ValidationError(
                ngettext(
                    "You have sent yourself several test notifications in the last hour. "
                    "Please try again in %(minutes)d minute.",
                    "You have sent yourself several test notifications in the last hour. "
                    "Please try again in %(minutes)d minutes.",
                    verdict.retry_minutes,
                )
                % {"minutes": verdict.retry_minutes}
            )
        # The key names the instant: a second press at the very same one is the same test.
        reminder, _created = Reminder.objects.get_or_create(
            idempotency_key=f"test:{channel.pk}:{now:%Y%m%dT%H%M%S%f}",
            defaults={
                "user_id": channel.user_id,
                "channel": channel,
                "kind": Reminder.Kind.TEST,
                "due_at": now,
                "send_after": now,
                "urgent": False,
            },
        )
        return reminder


def reminder_mark_read(*, reminder: Reminder, now: datetime) -> Reminder:
    """An inbox message was opened. The first opening counts; opening it again changes nothing."""
    Reminder.objects.filter(pk=reminder.pk, read_at__isnull=True).update(read_at=now)
    reminder.refresh_from_db(fields=["read_at"])
    return reminder


def channel_kinds_offered_to(user) -> list[str]:
    """The kinds of channel a patient's clinic offers (the inbox always); every kind for staff,
    whom no clinic's offer limits."""
    clinic = Clinic.objects.filter(patients__user=user).first()
    return list(Kind.values) if clinic is None else clinic.channel_kinds_offered


def channel_offer_check(*, user, kind: str) -> None:
    """A patient adds only the kinds of channel their clinic offers. Channels they already
    have keep working whatever the clinic offers now: a reminder is never silently dropped."""
    if kind not in channel_kinds_offered_to(user):
        raise ValidationError(
            gettext("Your clinic does not offer %(kind)s for reminders.")
            % {"kind": Kind(kind).label.lower()}
        )
