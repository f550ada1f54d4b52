"""Planning reminders: outbox rows for the doses and lab checks coming up.

A periodic task looks a little ahead and writes rows that do not exist yet; the idempotency
key (kind, subject, channel, the subject's due instant) makes that safe to repeat, and a dose
that moves gets new rows while the old ones cancel themselves at send time.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch

from accounts.models import User
from flags.services import LAB_OVERDUE_AFTER
from reminders.models import Channel, Preference, Reminder
from reminders.services.channels import channels_ensure_defaults
from reminders.services.rows import reminders_insert
from schedules.models import InjectionEvent, LabOrder, Prescription
from schedules.scheduler import dose_window, local_instant, zone_for
from schedules.specs import phase_spec

Kind = Reminder.Kind
LOOKAHEAD = timedelta(hours=36)
LAB_NOTICE = timedelta(days=7)
DEFAULT_LEAD = timedelta(minutes=60)


def reminders_plan(*, now: datetime, lookahead: timedelta = LOOKAHEAD) -> int:
    """Write the reminder rows due within `lookahead` that are not written yet."""
    _ensure_default_channels()
    rows = [*_dose_rows(now, lookahead), *_lab_rows(now, lookahead)]
    return reminders_insert(rows)


def _dose_rows(now: datetime, lookahead: timedelta):
    # Nudges come up to a window's length after the dose; the lead time up to a day before.
    events = (
        InjectionEvent.objects.filter(
            status=InjectionEvent.Status.PLANNED,
            prescription__status=Prescription.Status.ACTIVE,
            due_at__gt=now - timedelta(days=4),
            due_at__lte=now + lookahead + timedelta(days=1),
        )
        .select_related("phase", "prescription__patient__user")
        .prefetch_related(_channels("prescription__patient__user__channels"))
    )
    preferences = _preferences(event.prescription.patient.user_id for event in events)
    for event in events:
        user = event.prescription.patient.user
        lead = preferences.get(user.pk, DEFAULT_LEAD)
        for kind, at in _dose_times(event, lead):
            if now - timedelta(hours=1) <= at <= now + lookahead:
                yield from _rows(user, kind, at, event.due_at, f"ev{event.pk}", event=event)


def _dose_times(event: InjectionEvent, lead: timedelta):
    """The coming dose (lead time before), the dose due now, and at most two nudges inside its
    window (2.9), at a third and two thirds of the time left in it."""
    yield Kind.DOSE_UPCOMING, event.due_at - lead
    yield Kind.DOSE_DUE, event.due_at
    zone = zone_for(event.prescription.time_zone)
    _first, last = dose_window(phase_spec(event.phase), event.due_on)
    window_end = local_instant(last + timedelta(days=1), event.prescription.dose_time.min, zone)
    left = window_end - event.due_at
    if left > timedelta(hours=1):
        yield Kind.DOSE_OVERDUE, event.due_at + left / 3
        yield Kind.DOSE_OVERDUE, event.due_at + 2 * left / 3


def _lab_rows(now: datetime, lookahead: timedelta):
    orders = (
        LabOrder.objects.filter(
            status=LabOrder.Status.DUE,
            prescription__status=Prescription.Status.ACTIVE,
            due_on__lte=(now + lookahead + LAB_NOTICE).date(),
            due_on__gte=(now - LAB_OVERDUE_AFTER - timedelta(days=2)).date(),
        )
        .select_related("prescription__patient__user")
        .prefetch_related(_channels("prescription__patient__user__channels"))
    )
    for order in orders:
        rx = order.prescription
        zone = zone_for(rx.time_zone)
        due_at = local_instant(order.due_on, rx.dose_time, zone)
        user = rx.patient.user
        for kind, at in (
            (Kind.LAB_UPCOMING, due_at - LAB_NOTICE),
            (Kind.LAB_OVERDUE, due_at + LAB_OVERDUE_AFTER),
        ):
            if now - timedelta(hours=1) <= at <= now + lookahead:
                yield from _rows(user, kind, at, due_at, f"lab{order.pk}", lab_order=order)


def _rows(user, kind: str, at: datetime, subject_due_at: datetime, subject: str, **links):
    for channel in user.usable_channels:
        yield Reminder(
            user=user,
            channel=channel,
            kind=kind,
            due_at=at,
            send_after=at,
            subject_due_at=subject_due_at,
            idempotency_key=f"{kind}:{subject}:{subject_due_at:%Y%m%dT%H%M}:{at:%H%M}:c{channel.pk}",
            **links,
        )


def _channels(path: str) -> Prefetch:
    usable = Channel.objects.usable()
    if not settings.VAPID_PRIVATE_KEY:
        # Push is not configured on this server: planning push reminders would only fail.
        usable = usable.exclude(kind=Channel.Kind.PUSH)
    return Prefetch(path, queryset=usable, to_attr="usable_channels")


def _ensure_default_channels() -> None:
    """Patients under treatment who have no channel at all get the inbox and email."""
    bare = User.objects.filter(
        patient__prescriptions__status=Prescription.Status.ACTIVE, channels__isnull=True
    ).distinct()
    for user in bare:
        channels_ensure_defaults(user=user)


def _preferences(user_ids) -> dict[int, timedelta]:
    rows = Preference.objects.filter(user_id__in=set(user_ids)).values_list(
        "user_id", "lead_minutes"
    )
    return {user_id: timedelta(minutes=minutes) for user_id, minutes in rows}
