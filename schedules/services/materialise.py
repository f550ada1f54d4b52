"""Materialising many fresh prescriptions at once: an import, or a clinic moving its patients.

`prescriptions_materialise` gives prescriptions that have no events yet exactly the events,
lab orders and `planned_until` that `prescription_schedule_rebuild` would give each one, with
a few queries a batch instead of a few a prescription. On PostgreSQL the rows go through COPY
into a temporary table, then `INSERT ... ON CONFLICT DO NOTHING`, so running it twice, or
beside a rebuild, adds no duplicate (2.10). The plan is the rebuild's own (`schedule_plan`),
without history. On PostgreSQL the batches can be shared between processes, one per core:
most of the work is the server's (inserting, indexing, checking foreign keys), and each
process has its own server backend.
"""

import json
import multiprocessing
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef

from audit.signals import patients_changed
from schedules import scheduler
from schedules.models import InjectionEvent, LabOrder, Prescription, PrescriptionPhase
from schedules.services.schedule import schedule_plan

PHASE_FIELDS = (
    "pk",
    "prescription_id",
    "amount",
    "unit",
    "route",
    "frequency_kind",
    "frequency_every",
    "weekdays",
    "end_kind",
    "end_value",
    "ended_on",
)


@dataclass(frozen=True, slots=True)
class _Phase:
    """The columns of a PrescriptionPhase the plan needs; `schedule_plan` reads it like a row."""

    pk: int
    prescription_id: int
    amount: Decimal
    unit: str
    route: str
    frequency_kind: str
    frequency_every: int
    weekdays: list
    end_kind: str
    end_value: int | None
    ended_on: date | None


@dataclass(frozen=True, slots=True)
class _Plan:
    prescription_id: int
    phases: list[_Phase]
    doses: list[scheduler.PlannedDose]
    until: date
    start_on: date


def prescriptions_materialise(
    *,
    prescription_ids: Sequence[int],
    now: datetime,
    until: date | None = None,
    batch_size: int = 2000,
    processes: int = 1,
) -> int:
    """Write the first events of prescriptions that have none yet; return how many.

    The horizon is each prescription's own (2.6, `scheduler.horizon_until`) unless `until`
    is given. A prescription that already has events is left to
    `prescription_schedule_rebuild`, which replays history; this path knows none. Each
    batch is one transaction that locks its prescriptions, in id order, as a rebuild does.

    `processes` above 1 splits the ids into that many equal ranges (no more than there are
    batches), each materialised in batches by a forked process on its own connection, on
    PostgreSQL (elsewhere one process does it all). The ranges are disjoint, so the
    processes never wait on each other's locks, and each batch is still its own
    transaction: what a rebuild racing them finds is the same. The caller must not be
    inside a transaction, whose rows the processes could not see; its connection is closed
    before the fork (Django opens a new one when next needed). As with one process, a
    failure leaves the batches already committed, and running it again finishes the rest.
    """
    ids = sorted(set(prescription_ids))
    shares = min(processes, -(-len(ids) // batch_size))
    if shares > 1 and connection.vendor == "postgresql":
        return _materialise_in_processes(
            ids, now=now, until=until, batch_size=batch_size, shares=shares
        )
    return _materialise_range(ids, now, until, batch_size)


def _materialise_range(ids: list[int], now: datetime, until: date | None, batch_size: int) -> int:
    return sum(
        _materialise_batch(ids[start : start + batch_size], now=now, until=until)
        for start in range(0, len(ids), batch_size)
    )


def _materialise_in_processes(
    ids: list[int], *, now: datetime, until: date | None, batch_size: int, shares: int
) -> int:
    """Each process takes one of `shares` equal ranges of ids, in batches."""
    if connection.in_atomic_block:
        raise RuntimeError(
            "prescriptions_materialise with processes > 1 cannot run inside a transaction: "
            "the other processes would not see its rows"
        )
    ranges = [ids[k * len(ids) // shares : (k + 1) * len(ids) // shares] for k in range(shares)]
    # A forked process must open its own connection, not share the parent's socket.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=shares, mp_context=context) as pool:
        counts = [pool.submit(_materialise_share, part, now, until, batch_size) for part in ranges]
        return sum(count.result() for count in counts)


def _materialise_share(ids: list[int], now: datetime, until: date | None, batch_size: int) -> int:
    """One forked process's range, on its own connection, closed when it is done."""
    try:
        return _materialise_range(ids, now, until, batch_size)
    finally:
        connections.close_all()


def _materialise_batch(ids: list[int], *, now: datetime, until: date | None) -> int:
    with transaction.atomic():
        loaded = list(_load(ids))
        if not loaded:
            return 0
        plans = [_plan(rx, phases, now, until) for rx, phases in loaded]
        patients_changed((rx[5], None) for rx, _phases in loaded)  # rx[5]: patient_id
        if connection.vendor == "postgresql":
            return _write_postgresql(plans)
        return _write_portable(plans)


def _load(ids: list[int]) -> Iterable[tuple[tuple, list[_Phase]]]:
    """The batch's prescriptions that still have no event, locked, with their phases; each
    as (pk, start_on, dose_time, time_zone, status, patient_id).

    Checking "no event" under the lock is what makes a concurrent rebuild safe: whichever
    commits first, the other finds the events and leaves them (2.10).
    """
    has_events = InjectionEvent.objects.filter(prescription=OuterRef("pk"))
    prescriptions = list(
        Prescription.objects.select_for_update()
        .filter(pk__in=ids)
        .filter(~Exists(has_events))
        .order_by("pk")
        .values_list("pk", "start_on", "dose_time", "time_zone", "status", "patient_id")
    )
    phases: dict[int, list[_Phase]] = {rx[0]: [] for rx in prescriptions}
    rows = (
        PrescriptionPhase.objects.filter(prescription_id__in=list(phases))
        .order_by("prescription_id", "position")
        .values_list(*PHASE_FIELDS)
    )
    for row in rows:
        phases[row[1]].append(_Phase(*row))
    return ((rx, phases[rx[0]]) for rx in prescriptions)


def _plan(rx: tuple, phases: list[_Phase], now: datetime, until: date | None) -> _Plan:
    """What `prescription_schedule_rebuild` plans for a prescription without history."""
    pk, start_on, dose_time, time_zone, status, _patient_id = rx
    doses, until = schedule_plan(
        phases=phases,
        start_on=start_on,
        dose_time=dose_time,
        zone=scheduler.zone_for(time_zone),
        stopped=status == Prescription.Status.STOPPED,
        now=now,
        until=until,
    )
    return _Plan(pk, phases, doses, until, start_on)


def _lab_orders(plan: _Plan) -> Iterable[tuple[int, date, tuple[str, ...]]]:
    """Section 3's checks up to the horizon, as the rebuild adds them for a new prescription."""
    for check in scheduler.plan_lab_checks(plan.start_on, until=plan.until):
        yield plan.prescription_id, check.due_on, check.tests


EVENT_STAGING = """
    CREATE TEMPORARY TABLE _materialise_events (
        prescription_id bigint, phase_id bigint, sequence integer, due_at timestamptz,
        due_on date
    )
"""
EVENT_STAGING_TYPES = ["int8", "int8", "int4", "timestamptz", "date"]
EVENT_INSERT = """
    INSERT INTO schedules_injectionevent
        (prescription_id, phase_id, sequence, amount, unit, route, due_at, due_on,
         status, site, lot, notes)
    SELECT staged.prescription_id, staged.phase_id, staged.sequence, phase.amount, phase.unit,
        phase.route, staged.due_at, staged.due_on, %s, '', '', ''
    FROM _materialise_events AS staged
    JOIN schedules_prescriptionphase AS phase ON phase.id = staged.phase_id
    ON CONFLICT (prescription_id, phase_id, sequence) DO NOTHING
"""
LAB_STAGING = """
    CREATE TEMPORARY TABLE _materialise_lab_orders (
        prescription_id bigint, due_on date, tests jsonb
    )
"""
LAB_INSERT = """
    INSERT INTO schedules_laborder (prescription_id, due_on, tests, status)
    SELECT prescription_id, due_on, tests, %s FROM _materialise_lab_orders
    ON CONFLICT (prescription_id, due_on) DO NOTHING
"""
PLANNED_UNTIL_UPDATE = """
    UPDATE schedules_prescription AS rx SET planned_until = batch.until
    FROM unnest(%s::bigint[], %s::date[]) AS batch (id, until)
    WHERE rx.id = batch.id
"""


def _write_postgresql(plans: list[_Plan]) -> int:
    """COPY into temporary tables, then insert what is not there yet.

    COPY cannot skip a row that breaks a constraint, and the unique constraint on
    (prescription, phase, sequence) is what keeps a concurrent rebuild from doubling a dose
    (2.10); so the rows land in a temporary table first and `ON CONFLICT DO NOTHING` moves
    them. Only the five columns that vary go through COPY, in binary: a third of the
    client's time of text rows repeating the dose and route (those come from the phase
    row, as in the rebuild). The temporary tables are dropped rather than created ON COMMIT
    DROP, so that batches inside a caller's own transaction can create them again.
    """
    with connection.cursor() as cursor:
        cursor.execute(EVENT_STAGING)
        with cursor.cursor.copy("COPY _materialise_events FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(EVENT_STAGING_TYPES)
            for row in _event_keys(plans):
                copy.write_row(row)
        cursor.execute(EVENT_INSERT, [InjectionEvent.Status.PLANNED])
        added = cursor.rowcount
        cursor.execute(LAB_STAGING)
        with cursor.cursor.copy("COPY _materialise_lab_orders FROM STDIN") as copy:
            for pk, due_on, tests in (row for plan in plans for row in _lab_orders(plan)):
                copy.write_row((pk, due_on, json.dumps(list(tests))))
        cursor.execute(LAB_INSERT, [LabOrder.Status.DUE])
        cursor.execute("DROP TABLE _materialise_events, _materialise_lab_orders")
        cursor.execute(
            PLANNED_UNTIL_UPDATE,
            [[plan.prescription_id for plan in plans], [plan.until for plan in plans]],
        )
    return added


def _event_keys(plans: list[_Plan]) -> Iterable[tuple[int, int, int, datetime, date]]:
    """(prescription, phase, sequence, due_at, due_on) of every planned dose."""
    for plan in plans:
        pk, phase_pks = plan.prescription_id, [phase.pk for phase in plan.phases]
        for dose in plan.doses:
            yield pk, phase_pks[dose.phase], dose.sequence, dose.due_at, dose.due_on


def _write_portable(plans: list[_Plan]) -> int:
    """Any other database (SQLite in development): the ORM, skipping what already exists."""
    events = [
        InjectionEvent(
            prescription_id=plan.prescription_id,
            phase_id=phase.pk,
            sequence=dose.sequence,
            amount=phase.amount,
            unit=phase.unit,
            route=phase.route,
            due_at=dose.due_at,
            due_on=dose.due_on,
        )
        for plan in plans
        for dose in plan.doses
        for phase in (plan.phases[dose.phase],)
    ]
    ids = [plan.prescription_id for plan in plans]
    before = InjectionEvent.objects.filter(prescription_id__in=ids).count()
    InjectionEvent.objects.bulk_create(events, ignore_conflicts=True)
    LabOrder.objects.bulk_create(
        [
            LabOrder(prescription_id=pk, due_on=due_on, tests=list(tests))
            for plan in plans
            for pk, due_on, tests in _lab_orders(plan)
        ],
        ignore_conflicts=True,
    )
    Prescription.objects.bulk_update(
        [Prescription(pk=plan.prescription_id, planned_until=plan.until) for plan in plans],
        ["planned_until"],
    )
    return InjectionEvent.objects.filter(prescription_id__in=ids).count() - before
