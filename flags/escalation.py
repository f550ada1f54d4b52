"""When missed and overdue doses become a nurse's flag, by the clinic's settings (issue 4).

Defaults: any missed loading dose; two consecutive missed maintenance doses; a dose 7 days
overdue. "Loading" is every phase that is not lifelong (a count, a number of days, or open
until no further improvement); "maintenance" is the lifelong phase.

Conservative choices, each made so that a lapse reaches a nurse rather than hides:
- A skipped dose neither counts towards a maintenance streak nor breaks it: a skip is a
  choice someone recorded with a reason, not a lapse, but it is no dose given either, so
  missed, skipped, missed is still two consecutive missed doses. Only a taken dose breaks
  the streak.
- A dose is overdue while nothing has been given since it fell due: a later dose taken
  ends it (the patient is back on treatment; a missed loading dose or a streak has its own
  flag). A later skip does not.
- Each missed or overdue dose is escalated once (its id is kept in the flag's details), so
  the sweep and the scan may run any number of times; a new one updates the open flag.
- A dose missed before its clinic switched escalation on is escalated at the next missed
  dose of that prescription: nobody has looked at it yet.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef

from clinics.models import Clinic
from flags.models import Flag
from flags.services import day_text, flag_items_new, flag_raise_items
from schedules.models import EndKind, InjectionEvent, Prescription
from schedules.scheduler import zone_for

Status = InjectionEvent.Status
RECORDED = (Status.TAKEN, Status.SKIPPED, Status.MISSED)


def missed_dose_escalate(*, prescription: Prescription, now: datetime) -> Flag | None:
    """Apply the clinic's missed-dose settings to one prescription, after the sweep (2.9)
    marked doses of it missed. Returns the MISSED_DOSE flag when one was raised or updated."""
    rx = Prescription.objects.select_related("patient__clinic").get(pk=prescription.pk)
    if rx.status != Prescription.Status.ACTIVE:
        return None
    clinic = rx.patient.clinic
    events = list(
        rx.events.filter(status__in=RECORDED)
        .select_related("phase")
        .order_by("phase__position", "sequence")
    )
    flag = None
    if clinic.escalate_missed_loading:
        missed = [e for e in events if e.status == Status.MISSED and not _maintenance(e)]
        flag = _escalate(rx, missed, now, _loading_summary) or flag
    streak = _maintenance_streak([e for e in events if _maintenance(e)])
    if len(streak) >= clinic.escalate_missed_maintenance_streak:
        flag = _escalate(rx, streak, now, _streak_summary) or flag
    return flag


def _maintenance(event: InjectionEvent) -> bool:
    return event.phase.end_kind == EndKind.LIFELONG


def _maintenance_streak(events: list[InjectionEvent]) -> list[InjectionEvent]:
    """The consecutive missed doses at the end of the maintenance history, oldest first,
    counted back from the latest recorded dose: a taken dose ends it, a skip is passed over."""
    streak = []
    for event in reversed(events):
        if event.status == Status.TAKEN:
            break
        if event.status == Status.MISSED:
            streak.append(event)
    return streak[::-1]


def _escalate(rx: Prescription, events: list[InjectionEvent], now: datetime, summarise):
    new = flag_items_new(
        patient=rx.patient, cause=Flag.Cause.MISSED_DOSE, key="events", ids=[e.pk for e in events]
    )
    if not new:
        return None
    flag, _created = flag_raise_items(
        patient=rx.patient,
        cause=Flag.Cause.MISSED_DOSE,
        key="events",
        items=new,
        summary=summarise(rx, events, new),
        now=now,
        prescription=rx,
        details={"prescription": rx.pk},
    )
    return flag


def _loading_summary(rx: Prescription, events: list[InjectionEvent], new: list[int]) -> str:
    fresh = [e for e in events if e.pk in new]
    latest = fresh[-1]
    if len(fresh) == 1:
        return (
            f"Missed loading dose: {latest.amount.normalize():f} {latest.unit} due "
            f"{day_text(latest.due_on)} was not given ({rx.regimen_name})."
        )
    return (
        f"{len(fresh)} missed loading doses, the latest due {day_text(latest.due_on)} "
        f"({rx.regimen_name})."
    )


def _streak_summary(rx: Prescription, events: list[InjectionEvent], new: list[int]) -> str:
    days = ", ".join(day_text(e.due_on) for e in events[-6:])
    return f"{len(events)} consecutive missed maintenance doses, due {days} ({rx.regimen_name})."


def doses_overdue_scan(*, now: datetime) -> int:
    """Flag every dose, planned or missed, due at least the clinic's number of days ago
    (default 7) with nothing given since. Returns how many prescriptions raised or updated
    a DOSE_OVERDUE flag. Each clinic has its own threshold, and clinics are few."""
    raised = 0
    for clinic in Clinic.objects.all():
        days = clinic.escalate_overdue_days
        by_prescription = defaultdict(list)
        for event in _overdue(clinic, now - timedelta(days=days)):
            by_prescription[event.prescription].append(event)
        for rx, events in by_prescription.items():
            raised += _raise_overdue(rx, events, days, now)
    return raised


def _overdue(clinic: Clinic, cutoff: datetime):
    given_since = InjectionEvent.objects.filter(
        prescription=OuterRef("prescription"),
        status=Status.TAKEN,
        due_at__gt=OuterRef("due_at"),
    )
    return (
        InjectionEvent.objects.filter(
            prescription__patient__clinic=clinic,
            prescription__status=Prescription.Status.ACTIVE,
            status__in=[Status.PLANNED, Status.MISSED],
            due_at__lte=cutoff,
        )
        .exclude(Exists(given_since))
        .select_related("prescription__patient")
        .order_by("prescription_id", "due_at")
    )


def _raise_overdue(rx: Prescription, events: list[InjectionEvent], days: int, now) -> int:
    new = flag_items_new(
        patient=rx.patient, cause=Flag.Cause.DOSE_OVERDUE, key="events", ids=[e.pk for e in events]
    )
    if not new:
        return 0
    oldest = next(e for e in events if e.pk in new)
    today = now.astimezone(zone_for(rx.time_zone)).date()
    late = (today - oldest.due_on).days
    summary = (
        f"Dose of {oldest.amount.normalize():f} {oldest.unit} due {day_text(oldest.due_on)} "
        f"is {late} days overdue, nothing given since ({rx.regimen_name})."
    )
    if len(new) > 1:
        summary = (
            f"{len(new)} doses overdue by {days} days or more, the oldest due "
            f"{day_text(oldest.due_on)}, nothing given since ({rx.regimen_name})."
        )
    flag_raise_items(
        patient=rx.patient,
        cause=Flag.Cause.DOSE_OVERDUE,
        key="events",
        items=new,
        summary=summary,
        now=now,
        prescription=rx,
        details={"prescription": rx.pk, "overdue_days": days},
    )
    return 1
