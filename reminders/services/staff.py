"""Messages to nurses: an immediate one for each urgent flag, and one digest a day of new
flags. Both are outbox rows with idempotency keys, so a repeat writes nothing."""

from datetime import datetime, time, timedelta

from django.db.models import Prefetch

from accounts.models import User
from clinics.models import StaffMembership
from flags.models import Flag
from reminders.models import Channel, Reminder
from reminders.services.rows import reminders_insert
from schedules.scheduler import local_instant, zone_for

DIGEST_TIME = time(8, 0)
URGENT_LOOKBACK = timedelta(days=2)


def urgent_flags_notify(*, now: datetime) -> int:
    """Write an immediate message to every nurse of the clinic for each open urgent flag."""
    flags = Flag.objects.filter(
        urgency=Flag.Urgency.URGENT,
        resolved_at__isnull=True,
        opened_at__gte=now - URGENT_LOOKBACK,
    ).select_related("patient")
    rows = [
        Reminder(
            user=nurse,
            channel=channel,
            kind=Reminder.Kind.FLAG_URGENT,
            flag=flag,
            due_at=flag.opened_at,
            send_after=now,
            urgent=True,
            idempotency_key=f"flag-urgent:{flag.pk}:c{channel.pk}",
        )
        for flag in flags
        for nurse in _nurses_of(flag.patient.clinic_id)
        for channel in nurse.usable_channels
    ]
    return reminders_insert(rows)


def nurse_digests_plan(*, now: datetime) -> int:
    """One digest a day per nurse, at 08:00 in their (first) clinic's time: the flags opened
    in their clinics in the 24 hours before. A day with no new flags sends nothing."""
    created = 0
    nurses = User.objects.filter(role=User.Role.NURSE, is_active=True).prefetch_related(
        Prefetch("memberships", queryset=StaffMembership.objects.select_related("clinic"))
    )
    for nurse in nurses:
        clinics = [membership.clinic for membership in nurse.memberships.all()]
        if not clinics:
            continue
        zone = zone_for(clinics[0].time_zone)
        today = now.astimezone(zone).date()
        send_at = local_instant(today, DIGEST_TIME, zone)
        if now >= send_at:
            created += _digest(nurse, clinics, today, send_at, now)
    return created


def _digest(nurse: User, clinics, today, send_at: datetime, now: datetime) -> int:
    flags = Flag.objects.filter(
        patient__clinic__in=clinics,
        opened_at__gte=send_at - timedelta(days=1),
        opened_at__lt=send_at,
    ).select_related("patient__user", "patient__clinic")
    if not flags:
        return 0
    body = "\n".join(
        f"- {flag.patient.user.display_name} ({flag.patient.clinic.name}): "
        f"{flag.get_cause_display()}: {flag.summary}"
        for flag in flags
    )
    rows = [
        Reminder(
            user=nurse,
            channel=channel,
            kind=Reminder.Kind.NURSE_DIGEST,
            due_at=send_at,
            send_after=now,
            body=body,
            idempotency_key=f"digest:{nurse.pk}:{today}:c{channel.pk}",
        )
        for channel in Channel.objects.usable().filter(user=nurse)
    ]
    return reminders_insert(rows)


def _nurses_of(clinic_id: int):
    return User.objects.filter(
        role=User.Role.NURSE, is_active=True, memberships__clinic_id=clinic_id
    ).prefetch_related(
        Prefetch("channels", queryset=Channel.objects.usable(), to_attr="usable_channels")
    )
