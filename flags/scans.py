"""Periodic scans that flag what became due with nobody acting on it: lab checks without a
result (section 3) and open phases due for their review (2.7). The tasks in `flags.tasks`
run them on a fixed interval; each run raises nothing that an earlier run already raised.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from flags.models import Flag
from flags.services import day_text, flag_items_new, flag_raise, flag_raise_items
from schedules.models import EndKind, InjectionEvent, LabOrder, LabTest, Prescription
from schedules.scheduler import zone_for

# Section 3: "a check with no result 14 days after its due date is overdue".
LAB_OVERDUE_AFTER = timedelta(days=14)
# 2.7: "while a phase is open, the nurse is asked to review it every 14 days".
OPEN_PHASE_REVIEW_EVERY = 14
# No time zone is more than 14 hours ahead of UTC: a patient's date is at most UTC's + 1.
AHEAD_OF_UTC = timedelta(days=1)


def lab_overdue_scan(*, now: datetime) -> int:
    """Flag each lab check still without a result on the 14th day after its due date, in
    the patient's own calendar. The patient's reminder is sent elsewhere. Returns how many
    patients raised or updated a LAB_OVERDUE flag."""
    latest_due = now.astimezone(UTC).date() + AHEAD_OF_UTC - LAB_OVERDUE_AFTER
    orders = (
        LabOrder.objects.filter(
            status=LabOrder.Status.DUE,
            due_on__lte=latest_due,
            # As lab_result_record: a paused prescription still has its checks answered.
            prescription__status__in=[Prescription.Status.ACTIVE, Prescription.Status.PAUSED],
        )
        .select_related("prescription__patient")
        .order_by("prescription__patient_id", "due_on")
    )
    by_patient = defaultdict(list)
    for order in orders:
        patient = order.prescription.patient
        if now.astimezone(zone_for(patient.time_zone)).date() >= order.due_on + LAB_OVERDUE_AFTER:
            by_patient[patient].append(order)
    return sum(_raise_lab_overdue(patient, orders, now) for patient, orders in by_patient.items())


def _raise_lab_overdue(patient, orders: list[LabOrder], now: datetime) -> int:
    new = flag_items_new(
        patient=patient, cause=Flag.Cause.LAB_OVERDUE, key="lab_orders", ids=[o.pk for o in orders]
    )
    if not new:
        return 0
    oldest = next(order for order in orders if order.pk in new)
    tests = ", ".join(str(LabTest(code).label) for code in oldest.tests if code in LabTest.values)
    summary = f"Lab check due {day_text(oldest.due_on)} has no result 14 days later"
    if len(new) > 1:
        summary = f"{len(new)} lab checks have no result 14 days after they were due, the oldest "
        summary += f"due {day_text(oldest.due_on)}"
    flag_raise_items(
        patient=patient,
        cause=Flag.Cause.LAB_OVERDUE,
        key="lab_orders",
        items=new,
        summary=f"{summary}: {tests}." if tests else f"{summary}.",
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
