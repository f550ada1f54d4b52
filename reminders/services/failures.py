"""What happens when a reminder cannot be delivered: the patient and the clinic are told."""

from datetime import datetime

from django.db import transaction

from flags.models import Flag
from flags.services import flag_raise
from reminders.channels.base import DeliveryError
from reminders.models import Channel, Reminder
from reminders.services.channels import channel_disable
from reminders.services.rows import reminders_insert


def reminder_dead_lettered(*, reminder: Reminder, error: DeliveryError, now: datetime) -> None:
    """A permanent failure disables the channel and tells the person on their other
    channels; any dead letter of a patient's shows up in the clinic's flag queue."""
    with transaction.atomic():
        if error.permanent and reminder.channel.kind != Channel.Kind.INBOX:
            _disable_and_tell(reminder, str(error), now)
        patient = getattr(reminder.user, "patient", None)
        if patient is not None:
            flag_raise(
                patient=patient,
                cause=Flag.Cause.REMINDERS_FAILING,
                summary=f"{reminder.get_kind_display()} could not be sent by "
                f"{reminder.channel.get_kind_display()}: {error}"[:255],
                now=now,
                details={"reminder": reminder.pk, "channel": reminder.channel_id},
            )


def _disable_and_tell(reminder: Reminder, reason: str, now: datetime) -> None:
    channel = reminder.channel
    if not Channel.objects.filter(pk=channel.pk, enabled=True).exists():
        return
    channel_disable(channel=channel, reason=reason, now=now)
    # Pending reminders on a dead channel would only fail again.
    Reminder.objects.filter(channel=channel, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.CANCELLED, last_error="channel disabled"
    )
    others = Channel.objects.usable().filter(user=channel.user).exclude(pk=channel.pk)
    reminders_insert(
        [
            Reminder(
                user=channel.user,
                channel=other,
                kind=Reminder.Kind.CHANNEL_DISABLED,
                due_at=now,
                send_after=now,
                urgent=True,
                idempotency_key=f"channel-disabled:{channel.pk}:{other.pk}",
            )
            for other in others
        ]
    )
