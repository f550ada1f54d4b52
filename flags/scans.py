"""Periodic scans that flag what became due with nobody acting on it: lab checks without a
result (section 3) and open phases due for their review (2.7). The tasks in `flags.tasks`
run them on a fixed interval; each run raises nothing that an earlier run already raised.
"""

from datetime import date, datetime, timedelta

from flags.models import Flag
from flags.services import (
    day_text,
    flag_items_new,
    flag_raise,
    flag_raise_items,
    lab_orders_overdue,
    lab_overdue_summary,
)
from schedules.models import EndKind, InjectionEvent, LabOrder, Prescription
from schedules.scheduler import zone_for

# 2.7: "while a phase is open, the nurse is asked to review it every 14 days".
OPEN_PHASE_REVIEW_EVERY = 14


def lab_overdue_scan(*, now: datetime) -> int:
    """Flag each lab check still without a result on the 14th day after its due date, in
    the patient's own calendar (`flags.services.lab_orders_overdue`). The patient's reminder
    is sent elsewhere. Returns how many patients raised or updated a LAB_OVERDUE flag."""
    by_patient = lab_orders_overdue(now=now)
    return sum(_raise_lab_overdue(patient, orders, now) for patient, orders in by_patient.items())


def _raise_lab_overdue(patient, orders: list[LabOrder], now: datetime) -> int:
    new = flag_items_new(
        patient=patient, cause=Flag.Cause.LAB_OVERDUE, key="lab_orders", ids=[o.pk for o in orders]
    )
    if not new:
        return 0
    new_orders = [order for order in orders if order.pk in new]
    oldest = new_orders[0]
    flag_raise_items(
        patient=patient,
        cause=Flag.Cause.LAB_OVERDUE,
        key="lab_orders",
        items=new,
        summary=lab_overdue_summary(new_orders),
        now=now,
        prescription=oldest.prescription,
        details={"prescription": oldest.prescription_id},
    )
    return 1


def open_phase_review_scan(*, now: datetime) -> int:
    """2.7: every 14 days from an open phase's first dose, ask the nurse to review it, once
    per 14-day period. Nothing while the flag is open, nor when the last one was resolved on
    or after the latest 14-day mark. Returns how many flags were raised.

    Conservative choice: the flag is per patient (one open flag per cause), so a patient with
    two open phases has one review flag naming the one found first; resolving it covers both.
    """
    phases = (
        Prescription.objects.filter(status=Prescription.Status.ACTIVE)
        .filter(phases__end_kind=EndKind.OPEN, phases__ended_on__isnull=True)
        .select_related("patient")
        .distinct()
    )
    raised = 0
    for rx in phases:
        for phase in rx.phases.filter(end_kind=EndKind.OPEN, ended_on__isnull=True):
            raised += _review_if_due(rx, phase, now)
    return raised


def _review_if_due(rx: Prescription, phase, now: datetime) -> int:
    first_on = _first_dose_on(phase, now)
    if first_on is None:
        return 0
    today = now.astimezone(zone_for(rx.time_zone)).date()
    periods = (today - first_on).days // OPEN_PHASE_REVIEW_EVERY
    if periods < 1:
        return 0
    mark = first_on + timedelta(days=OPEN_PHASE_REVIEW_EVERY * periods)
    if _reviewed_since(rx.patient, mark, zone_for(rx.time_zone)):
        return 0
    flag_raise(
        patient=rx.patient,
        cause=Flag.Cause.OPEN_PHASE_REVIEW,
        summary=f"{phase.name} ({rx.regimen_name}), first dose {day_text(first_on)}: its "
        f"day-{(mark - first_on).days} review is due ({day_text(mark)}). Record no further "
        "improvement to end it, or resolve this flag to carry on.",
        now=now,
        prescription=rx,
        details={"prescription": rx.pk, "phase": phase.pk, "review_on": mark.isoformat()},
    )
    return 1


def _first_dose_on(phase, now: datetime) -> date | None:
    """The local date the phase started: its first dose given, or due in the past."""
    first = phase.events.filter(sequence=0).exclude(status=InjectionEvent.Status.CANCELLED)
    first = first.first()
    if first is None:
        return None
    if first.status == InjectionEvent.Status.TAKEN:
        return first.given_on
    return first.due_on if first.due_at <= now else None


def _reviewed_since(patient, mark: date, zone) -> bool:
    """An open review flag is still waiting; one resolved on or after the mark covers it."""
    latest = (
        Flag.objects.filter(patient=patient, cause=Flag.Cause.OPEN_PHASE_REVIEW)
        .order_by("-opened_at", "-pk")
        .first()
    )
    if latest is None:
        return False
    if latest.resolved_at is None:
        return True
    return latest.resolved_at.astimezone(zone).date() >= mark
