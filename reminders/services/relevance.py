"""Re-checking the world just before a reminder goes out (STYLE.md: the send service
re-checks). A channel switched off or not confirmed, a dose logged early, a paused
prescription or a moved dose cancel it; quiet hours hold a non-urgent one until they end.

`check_many` re-checks a batch with one query per kind of fact (channels, doses, lab checks,
quiet hours), read fresh from the database whatever the rows in hand say; `check` is the
same for one reminder.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinics.selectors import clinics_of
from reminders.models import Channel, Preference, Reminder
from schedules.models import InjectionEvent, LabOrder, Prescription
from schedules.scheduler import local_instant, zone_for

Kind = Reminder.Kind
DOSE_KINDS = {Kind.DOSE_UPCOMING, Kind.DOSE_DUE, Kind.DOSE_OVERDUE}
LAB_KINDS = {Kind.LAB_UPCOMING, Kind.LAB_OVERDUE}


@dataclass(frozen=True)
class Verdict:
    cancel: bool = False
    reason: str = ""
    hold_until: datetime | None = None


SEND = Verdict()
CHANNEL_DISABLED = Verdict(cancel=True, reason="channel disabled")
CHANNEL_UNCONFIRMED = Verdict(cancel=True, reason="channel not confirmed")
DOSE_GONE = Verdict(cancel=True, reason="the dose is no longer planned (logged or moved)")
PRESCRIPTION_STOPPED = Verdict(cancel=True, reason="the prescription is paused or stopped")
DOSE_MOVED = Verdict(cancel=True, reason="the dose was moved")
LAB_GONE = Verdict(cancel=True, reason="the lab check is answered or cancelled")


def check(reminder: Reminder, *, now: datetime) -> Verdict:
    return check_many([reminder], now=now)[reminder.pk]


def check_many(reminders: list[Reminder], *, now: datetime) -> dict[int, Verdict]:
    """Each reminder's verdict, by id."""
    facts = _Facts(reminders)
    verdicts = {}
    for reminder in reminders:
        verdict = _verdict(reminder, facts)
        if not verdict.cancel and not reminder.urgent:
            verdict = _quiet_hours(reminder, now, facts) or verdict
        verdicts[reminder.pk] = verdict
    return verdicts


class _Facts:
    """What the verdicts depend on, read in one query per kind of fact."""

    def __init__(self, reminders: list[Reminder]) -> None:
        channels = Channel.objects.filter(pk__in={r.channel_id for r in reminders}).values_list(
            "pk", "enabled", "confirmed_at"
        )
        self.enabled, self.confirmed = set(), set()
        for pk, enabled, confirmed_at in channels:
            if enabled:
                self.enabled.add(pk)
            if confirmed_at is not None:
                self.confirmed.add(pk)
        event_ids = {r.event_id for r in reminders if r.kind in DOSE_KINDS and r.event_id}
        self.events = (
            InjectionEvent.objects.select_related("prescription").in_bulk(event_ids)
            if event_ids
            else {}
        )
        order_ids = {r.lab_order_id for r in reminders if r.kind in LAB_KINDS and r.lab_order_id}
        self.orders = LabOrder.objects.in_bulk(order_ids) if order_ids else {}
        user_ids = {r.user_id for r in reminders if not r.urgent}
        self.preferences = (
            {p.user_id: p for p in Preference.objects.filter(user__in=user_ids)} if user_ids else {}
        )


def _verdict(reminder: Reminder, facts: _Facts) -> Verdict:
    if reminder.channel_id not in facts.enabled:
        return CHANNEL_DISABLED
    if reminder.channel_id not in facts.confirmed:
        # Only its confirmation code goes to an unconfirmed channel, and that is no reminder.
        return CHANNEL_UNCONFIRMED
    if reminder.kind in DOSE_KINDS:
        return _dose(reminder, facts.events.get(reminder.event_id))
    if reminder.kind in LAB_KINDS:
        order = facts.orders.get(reminder.lab_order_id)
        if order is None or order.status != LabOrder.Status.DUE:
            return LAB_GONE
    return SEND


def _dose(reminder: Reminder, event: InjectionEvent | None) -> Verdict:
    if event is None or event.status != InjectionEvent.Status.PLANNED:
        return DOSE_GONE
    if event.prescription.status != Prescription.Status.ACTIVE:
        return PRESCRIPTION_STOPPED
    if reminder.subject_due_at and event.due_at != reminder.subject_due_at:
        return DOSE_MOVED
    return SEND


def _quiet_hours(reminder: Reminder, now: datetime, facts: _Facts) -> Verdict | None:
    """Quiet hours are in the person's own local time; a held reminder goes at their end."""
    preference = facts.preferences.get(reminder.user_id)
    if preference is None or preference.quiet_start is None:
        return None
    zone = zone_for(zone_of_user(reminder.user))
    local = now.astimezone(zone)
    if not preference.in_quiet_hours(local.time().replace(tzinfo=None)):
        return None
    end_day = local.date()
    if local.time().replace(tzinfo=None) >= preference.quiet_end:
        end_day += timedelta(days=1)
    return Verdict(hold_until=local_instant(end_day, preference.quiet_end, zone))


def zone_of_user(user) -> str:
    """A patient's own time zone; a nurse's first clinic's."""
    patient = getattr(user, "patient", None)
    if patient is not None:
        return patient.time_zone
    clinic = clinics_of(user).first()
    return clinic.time_zone if clinic else "UTC"
