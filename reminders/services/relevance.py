"""Re-checking the world just before a reminder goes out (STYLE.md: the send service
re-checks). A dose logged early, a paused prescription or a moved dose cancel it; quiet
hours hold a non-urgent one until they end."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinics.selectors import clinics_of
from reminders.models import Preference, Reminder
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


def check(reminder: Reminder, *, now: datetime) -> Verdict:
    if not reminder.channel.enabled:
        return Verdict(cancel=True, reason="channel disabled")
    if reminder.kind in DOSE_KINDS:
        verdict = _dose(reminder)
    elif reminder.kind in LAB_KINDS:
        verdict = _lab(reminder)
    else:
        verdict = SEND
    if verdict.cancel or reminder.urgent:
        return verdict
    return _quiet_hours(reminder, now) or verdict


def _dose(reminder: Reminder) -> Verdict:
    event = (
        InjectionEvent.objects.select_related("prescription").filter(pk=reminder.event_id).first()
    )
    if event is None or event.status != InjectionEvent.Status.PLANNED:
        return Verdict(cancel=True, reason="the dose is no longer planned (logged or moved)")
    if event.prescription.status != Prescription.Status.ACTIVE:
        return Verdict(cancel=True, reason="the prescription is paused or stopped")
    if reminder.subject_due_at and event.due_at != reminder.subject_due_at:
        return Verdict(cancel=True, reason="the dose was moved")
    return SEND


def _lab(reminder: Reminder) -> Verdict:
    order = LabOrder.objects.filter(pk=reminder.lab_order_id).first()
    if order is None or order.status != LabOrder.Status.DUE:
        return Verdict(cancel=True, reason="the lab check is answered or cancelled")
    return SEND


def _quiet_hours(reminder: Reminder, now: datetime) -> Verdict | None:
    """Quiet hours are in the person's own local time; a held reminder goes at their end."""
    preference = Preference.objects.filter(user=reminder.user_id).first()
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
