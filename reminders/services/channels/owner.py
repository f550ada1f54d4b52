"""What a person does with their own channels on their reminder settings page and inbox:
removing one while keeping a fallback, a test notification, the kinds their clinic offers,
and an inbox message read."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, ngettext

from accounts.throttle import throttle_hit
from clinics.models import Clinic
from reminders.models import Channel, Reminder
from reminders.services.channels.lifecycle import (
    channel_ensure_inbox,
    channel_remove,
    channels_ensure_defaults,
)

Kind = Channel.Kind
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
