"""Materialising a prescription's injection events and lab orders (2.6, 2.8, 2.10, 3)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction

from audit.signals import patients_changed
from schedules import scheduler
from schedules.models import (
    InjectionEvent,
    LabOrder,
    PhaseFields,
    Prescription,
    PrescriptionPhase,
    ScheduleChange,
)
from schedules.specs import HISTORY_STATUSES, occurrence, phase_spec

Status = InjectionEvent.Status
REBUILT_FIELDS = ["due_at", "due_on", "amount", "unit", "route", "status"]


@dataclass(frozen=True)
class RebuildResult:
    added: int
    updated: int
    cancelled: int
    planned_until: object

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.cancelled)


@transaction.atomic
def prescription_schedule_rebuild(
    *, prescription: Prescription, now: datetime, actor=None, reason: str = ""
) -> RebuildResult:
    """Bring the stored events in line with the plan, idempotently.

    The prescription row is locked first, so two processes rebuilding at once run one after
    the other, and the second finds nothing to do; the unique (prescription, phase, sequence)
    constraint guarantees no duplicate either way (2.10). History (taken, skipped, missed)
    and planned doses already due are never moved (2.8); future planned doses are moved or
    added, and planned doses the plan no longer holds are cancelled (2.7: an ended open phase).
    A reason records who, when and why (2.8).
    """
    rx = Prescription.objects.select_for_update().get(pk=prescription.pk)
    phases = list(rx.phases.order_by("position"))
    zone = scheduler.zone_for(rx.time_zone)
    events = list(rx.events.all())
    plan, until = schedule_plan(
        phases=phases,
        start_on=rx.start_on,
        dose_time=rx.dose_time,
        zone=zone,
        stopped=rx.status == Prescription.Status.STOPPED,
        now=now,
        history=_history(events, phases, zone),
    )
    result = _apply(rx, phases, events, plan, now)
    _sync_lab_orders(rx, until)
    patients_changed([(rx.patient_id, None)])  # the nurse's record of them, once committed
    Prescription.objects.filter(pk=rx.pk).update(planned_until=until)
    if reason and result.changed:
        ScheduleChange.objects.create(
            prescription=rx,
            changed_by=actor if getattr(actor, "pk", None) else None,
            changed_at=now,
            reason=reason,
            events_removed=result.cancelled,
            events_added=result.added,
            details={"updated": result.updated, "planned_until": until.isoformat()},
        )
    return RebuildResult(result.added, result.updated, result.cancelled, until)


def _history(events, phases, zone) -> list[scheduler.Occurrence]:
    index_of = {phase.pk: i for i, phase in enumerate(phases)}
    return [
        occurrence(event, phase_index=index_of[event.phase_id], zone=zone)
        for event in events
        if event.status in HISTORY_STATUSES
    ]


def schedule_plan(
    *,
    phases: Sequence[PhaseFields],
    start_on: date,
    dose_time: time,
    zone: ZoneInfo,
    stopped: bool,
    now: datetime,
    history: Sequence[scheduler.Occurrence] = (),
    until: date | None = None,
) -> tuple[list[scheduler.PlannedDose], date]:
    """The doses a prescription's phases plan and the day they run to.

    `phases` are in position order: PrescriptionPhase rows, or any rows with their columns
    (the bulk path reads only those it needs). The rebuild passes what really happened;
    the bulk path for fresh prescriptions (`prescriptions_materialise`) passes no history
    and may fix `until`. Without `until` the horizon is the rolling one of 2.6. A stopped
    prescription plans nothing and is planned up to today. An open phase a clinician ended
    stops on its `ended_on` (2.7).
    """
    today = now.astimezone(zone).date()
    if stopped:
        return [], today
    specs = [phase_spec(phase) for phase in phases]
    kwargs = {
        "start_on": start_on,
        "history": history,
        "phase_ended_on": {i: phase.ended_on for i, phase in enumerate(phases) if phase.ended_on},
    }
    if until is None:
        until = scheduler.horizon_until(max(today, start_on), specs, **kwargs)
    plan = scheduler.plan_doses(specs, until=until, at=dose_time, zone=zone, **kwargs)
    return plan, until


def _apply(rx, phases: list[PrescriptionPhase], events, plan, now) -> RebuildResult:
    by_key = {(event.phase_id, event.sequence): event for event in events}
    wanted = set()
    to_create, to_update = [], []
    for dose in plan:
        phase = phases[dose.phase]
        key = (phase.pk, dose.sequence)
        wanted.add(key)
        event = by_key.get(key)
        if event is None:
            to_create.append(_new_event(rx, phase, dose))
        elif _rebuildable(event, now) and _differs(event, phase, dose):
            _refresh(event, phase, dose)
            to_update.append(event)
    to_cancel = [
        event
        for key, event in by_key.items()
        # A planned dose the plan no longer holds is cancelled even when its time has passed
        # (an open phase ended on an earlier date, 2.7): it was never due, so not missed.
        if key not in wanted and event.status == Status.PLANNED
    ]
    for event in to_cancel:
        event.status = Status.CANCELLED
    InjectionEvent.objects.bulk_create(to_create, ignore_conflicts=True)
    InjectionEvent.objects.bulk_update(to_update + to_cancel, REBUILT_FIELDS)
    return RebuildResult(len(to_create), len(to_update), len(to_cancel), None)


def _rebuildable(event: InjectionEvent, now: datetime) -> bool:
    """Only future planned events move; a cancelled one may come back into the plan."""
    if event.status == Status.CANCELLED:
        return True
    return event.status == Status.PLANNED and event.due_at > now


def _differs(event, phase, dose) -> bool:
    return (
        event.status != Status.PLANNED
        or event.due_at != dose.due_at
        or event.amount != phase.amount
        or event.route != phase.route
    )


def _refresh(event, phase, dose) -> None:
    event.status = Status.PLANNED
    event.due_at, event.due_on = dose.due_at, dose.due_on
    event.amount, event.unit, event.route = phase.amount, phase.unit, phase.route


def _new_event(rx, phase, dose) -> InjectionEvent:
    return InjectionEvent(
        prescription=rx,
        phase=phase,
        sequence=dose.sequence,
        amount=phase.amount,
        unit=phase.unit,
        route=phase.route,
        due_at=dose.due_at,
        due_on=dose.due_on,
    )


def _sync_lab_orders(rx: Prescription, until) -> None:
    """Lab checks of section 3 up to the horizon: add the missing, cancel those the plan
    dropped (two normal checks move the rhythm to yearly). Answered checks stay."""
    orders = list(rx.lab_orders.all())
    results = [
        scheduler.LabOutcome(order.due_on, result.b12_pg_ml, result.homocysteine_umol_l)
        for order in orders
        if order.status == LabOrder.Status.RESULTED
        for result in order.results.all()[:1]
        if result.b12_pg_ml is not None and result.homocysteine_umol_l is not None
    ]
    checks = scheduler.plan_lab_checks(rx.start_on, results=results, until=until)
    wanted = {check.due_on: check for check in checks}
    existing = {order.due_on: order for order in orders}
    LabOrder.objects.bulk_create(
        [
            LabOrder(prescription=rx, due_on=due_on, tests=list(check.tests))
            for due_on, check in wanted.items()
            if due_on not in existing
        ],
        ignore_conflicts=True,
    )
    revived = [o.pk for d, o in existing.items() if d in wanted and o.status == "cancelled"]
    LabOrder.objects.filter(pk__in=revived).update(status=LabOrder.Status.DUE)
    dropped = [
        order.pk
        for due_on, order in existing.items()
        if due_on not in wanted and order.status == LabOrder.Status.DUE
    ]
    LabOrder.objects.filter(pk__in=dropped).update(status=LabOrder.Status.CANCELLED)
