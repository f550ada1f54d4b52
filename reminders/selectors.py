"""Reading reminder settings and the inbox, always scoped to the person asking (section 5)."""

from datetime import datetime

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When

from reminders.models import Channel, Preference, Reminder
from reminders.services import relevance
from reminders.services.channels import FALLBACK_KINDS, REMOVED_BY_OWNER

Kind = Channel.Kind
# The reason `channel_remove` writes on a channel it switches off instead of deleting (one that
# carried reminders): the person removed it, so their settings page no longer lists it.
_KIND_ORDER = Case(
    When(kind=Kind.EMAIL, then=Value(0)),
    When(kind=Kind.SMS, then=Value(1)),
    When(kind=Kind.PUSH, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def channels_of(user) -> QuerySet[Channel]:
    """The person's channels as their settings page lists them: those that are on and those
    that stopped working (with the reason), but not those they removed. Email first, the
    inbox last."""
    return (
        Channel.objects.filter(user=user)
        .exclude(enabled=False, disabled_reason=REMOVED_BY_OWNER)
        .annotate(kind_order=_KIND_ORDER)
        .order_by("kind_order", "created_at", "pk")
    )


def channel_of(user) -> QuerySet[Channel]:
    """Every channel of the person, for looking one up by id (404 for anyone else's)."""
    return Channel.objects.filter(user=user)


def fallback_count(user) -> int:
    """How many working, confirmed email addresses and phone numbers the person has: the last
    one cannot be removed (`channel_remove_by_owner`), so the page does not offer to."""
    return Channel.objects.usable().filter(user=user, kind__in=FALLBACK_KINDS).count()


def push_available() -> bool:
    """Browser notifications are offered only when the server has a VAPID key to sign with."""
    return bool(settings.VAPID_PUBLIC_KEY)


def sms_available() -> bool:
    """The console SMS backend only prints: offering text messages with it would mislead a
    patient, except on a developer's machine."""
    return settings.SMS_BACKEND != "console" or settings.DEBUG


def preference_of(user) -> Preference:
    """The person's reminder settings, or the defaults (unsaved) when they never set any."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def inbox_of(user) -> QuerySet[Reminder]:
    """The messages sent to the person's in-app inbox, newest first.

    Every reminder is written once per enabled channel and the inbox is always one of them,
    so the inbox channel's rows are the whole history, each message once (listing every
    channel would show the same reminder two or three times)."""
    return Reminder.objects.filter(
        user=user, channel__kind=Kind.INBOX, status=Reminder.Status.SENT
    ).order_by("-sent_at", "-pk")


def inbox_unread_count(user) -> int:
    """How many inbox messages the person has not opened yet (for a badge in the menu)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return inbox_of(user).filter(read_at__isnull=True).count()


def test_held_until(reminder: Reminder, *, now: datetime) -> datetime | None:
    """When a test notification written now will really go: the end of the person's quiet
    hours if they are in them, or None for straight away. The send service applies the same
    check when it sends."""
    return relevance.check(reminder, now=now).hold_until
