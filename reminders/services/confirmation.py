"""Confirming a new email address or phone number: a code sent there, typed back.

Until it is confirmed a channel receives nothing but its code: planning writes reminders only
for usable channels, the send service re-checks that before every send
(`ChannelQuerySet.usable`), and a test notification is refused. So a mistyped address, or
someone else's, never receives a patient's reminders, and the app cannot be used to send
messages to an address nobody there controls.

The code is six digits, works for CODE_LIFETIME and CODE_ATTEMPTS wrong tries, and is stored
only as an HMAC keyed with the SECRET_KEY (and the channel). It is sent at once, from the
request, through the transport reminders use, but it is not a Reminder: it never passes
through the outbox, the inbox or quiet hours, as the person is waiting for it on the page.
Sending one is counted (accounts/throttle.py) per address, whoever asks, and per person.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, ngettext

from accounts.models import Invitation
from accounts.throttle import throttle_hit
from reminders.channels import transport_for
from reminders.channels.base import DeliveryError, OutboundMessage
from reminders.models import Channel

Kind = Channel.Kind
CONFIRMED_KINDS = (Kind.EMAIL, Kind.SMS)
CODE_LIFETIME = timedelta(minutes=30)
CODE_ATTEMPTS = 5
CODE_DIGITS = 6
_HASH_SALT = "reminders.channel-confirmation"
_MESSAGE = "reminders/messages/channel_confirmation"


def account_email_confirmed(user) -> bool:
    """An invited person followed a link sent to their account's address, so it reaches them."""
    return Invitation.objects.filter(accepted_user=user, email__iexact=user.email).exists()


def channel_confirmation_send(*, channel: Channel, now: datetime) -> Channel:
    """Make a new code for an unconfirmed email address or phone number and send it there.

    The code that was waiting stops working. If the message cannot be sent, nothing is kept
    (the caller's transaction too: an address added just now is not added), and the
    ValidationError says why."""
    if channel.kind not in CONFIRMED_KINDS:
        raise ValidationError(gettext("Only email addresses and phone numbers need a code."))
    with transaction.atomic():
        channel = _locked(channel)
        if channel.confirmed_at is not None:
            raise ValidationError(gettext("This channel is confirmed already."))
        if not channel.enabled:
            raise ValidationError(
                gettext("This channel is switched off. Turn it back on to get a new code.")
            )
        _counted(channel, now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        channel.confirmation_code_hash = confirmation_code_hash(channel, code)
        channel.confirmation_expires_at = now + CODE_LIFETIME
        channel.confirmation_attempts = 0
        channel.save(
            update_fields=[
                "confirmation_code_hash",
                "confirmation_expires_at",
                "confirmation_attempts",
            ]
        )
        _deliver(channel, code, now)
    return channel


def channel_confirm(*, channel: Channel, code: str, now: datetime) -> Channel:
    """Confirm the channel with the code sent to it. A wrong code is counted (and the last
    allowed one ends the code) before the ValidationError saying so is raised."""
    with transaction.atomic():
        channel = _locked(channel)
        if channel.confirmed_at is not None:
            return channel
        problem = _code_problem(channel, code, now)
        if problem is None:
            channel.confirmed_at = now
            channel.confirmation_code_hash = ""
            channel.confirmation_expires_at = None
            channel.confirmation_attempts = 0
        elif problem == "wrong":
            channel.confirmation_attempts += 1
            if channel.confirmation_attempts >= CODE_ATTEMPTS:
                # Used up. Its expiry stays, so the page still says a code was sent.
                channel.confirmation_code_hash = ""
        channel.save(
            update_fields=[
                "confirmed_at",
                "confirmation_code_hash",
                "confirmation_expires_at",
                "confirmation_attempts",
            ]
        )
    if problem is not None:
        raise ValidationError(_problem_message(problem, channel), code=problem)
    return channel


def _locked(channel: Channel) -> Channel:
    locked = Channel.objects.select_for_update().filter(pk=channel.pk).first()
    if locked is None:
        raise ValidationError(gettext("This channel was removed."))
    return locked


def confirmation_code_hash(channel: Channel, code: str) -> str:
    """The stored form of a code: keyed with the SECRET_KEY, and bound to this channel and
    address, so a code (or its hash) is worth nothing anywhere else."""
    value = f"{channel.pk}:{channel.kind}:{channel.address}:{code}"
    return salted_hmac(_HASH_SALT, value, algorithm="sha256").hexdigest()


def confirmation_code_waiting(channel: Channel, *, now: datetime) -> bool:
    """A code was sent and still works (not expired, tries left)."""
    return bool(
        channel.confirmation_code_hash
        and channel.confirmation_expires_at
        and now < channel.confirmation_expires_at
    )


def _code_problem(channel: Channel, code: str, now: datetime) -> str | None:
    if not channel.enabled:
        return "switched_off"
    if channel.confirmation_expires_at is None:
        return "none_sent"
    if not channel.confirmation_code_hash:
        return "used_up"
    if now >= channel.confirmation_expires_at:
        return "expired"
    if not constant_time_compare(
        confirmation_code_hash(channel, code), channel.confirmation_code_hash
    ):
        return "wrong"
    return None


def _problem_message(problem: str, channel: Channel) -> str:
    if problem == "switched_off":
        return gettext("This channel is switched off. Turn it back on to get a new code.")
    if problem == "none_sent":
        return gettext("No code has been sent here yet. Press “Send me a code” to get one.")
    if problem == "used_up":
        return gettext(
            "That code had too many wrong tries and no longer works. Press “Send a new code” "
            "to get another one."
        )
    if problem == "expired":
        return gettext(
            "That code has expired: codes work for %(minutes)d minutes. Press “Send a new "
            "code” and use the newest one."
        ) % {"minutes": CODE_LIFETIME.seconds // 60}
    left = CODE_ATTEMPTS - channel.confirmation_attempts
    if left <= 0:
        return gettext(
            "That code is not right, and that was the last try for it. Press “Send a new "
            "code” to get another one."
        )
    return ngettext(
        "That code is not right. You can try %(count)d more time.",
        "That code is not right. You can try %(count)d more times.",
        left,
    ) % {"count": left}


def _counted(channel: Channel, now: datetime) -> None:
    """Codes to one address, whoever asks for them, and to one person, wherever they go."""
    for purpose, subject, limit in (
        (
            "confirmation-address",
            f"{channel.kind}:{channel.address.lower()}",
            settings.CONFIRMATION_CODE_LIMIT_PER_ADDRESS,
        ),
        ("confirmation-user", str(channel.user_id), settings.CONFIRMATION_CODE_LIMIT_PER_USER),
    ):
        verdict = throttle_hit(purpose, subject, limit=limit, now=now)
        if not verdict.allowed:
            raise ValidationError(
                ngettext(
                    "You have asked for several codes in the last hour. Please try again in "
                    "%(minutes)d minute.",
                    "You have asked for several codes in the last hour. Please try again in "
                    "%(minutes)d minutes.",
                    verdict.retry_minutes,
                )
                % {"minutes": verdict.retry_minutes},
                code="throttled",
            )


class _AlreadySaved:
    """The transports' point of no return (channels/base.py) records a reminder as sent; a
    code has nothing to record there, as it was saved in the transaction sending it."""

    def __call__(self) -> None:
        return None

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, traceback) -> None:
        return None


def _deliver(channel: Channel, code: str, now: datetime) -> None:
    context = {
        "code": code,
        "minutes": CODE_LIFETIME.seconds // 60,
        "url": settings.SITE_URL.rstrip("/") + reverse("reminders:settings"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{_MESSAGE}_subject.txt", context)
        text = render_to_string(f"{_MESSAGE}.txt", context).strip()
        html = render_to_string(f"{_MESSAGE}.html", context)
    message = OutboundMessage(
        to=channel.address,
        subject=" ".join(subject.split()),
        text=text,
        html=html,
        idempotency_key=f"confirm:{channel.pk}:{now:%Y%m%dT%H%M%S%f}",
        url=context["url"],
    )
    try:
        transport_for(channel.kind).deliver(message, commit=_AlreadySaved())
    except DeliveryError as error:
        raise ValidationError(
            gettext(
                "The code could not be sent to %(address)s (%(error)s). Check it, then try again."
            )
            % {"address": channel.address, "error": error},
            code="not_sent",
        ) from error
