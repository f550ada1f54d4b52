"""A channel's life: added, or turned back on, disabled, removed; and every person's defaults.

Every input is checked before anything is written, so a refused add changes nothing, and
nothing already queued is touched. Adding an address a person already has enables that
channel again instead of making a second one (the database's unique user+kind+address).

An email address or phone number is added unconfirmed and a code is sent to it at once
(services/confirmation.py); one turned back on after it stopped working is confirmed again,
as the code also proves that messages reach it again.
"""

import contextlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from reminders.models import Channel, Reminder
from reminders.services.channels.addresses import (
    normalise_email,
    normalise_phone,
    parse_push_subscription,
)
from reminders.services.confirmation import account_email_confirmed, channel_confirmation_send

Kind = Channel.Kind
# The reason a channel its owner removed carries; selectors hide such channels.
REMOVED_BY_OWNER = "removed by its owner"


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
