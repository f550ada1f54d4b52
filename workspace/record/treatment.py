"""The patient's treatment as the record shows it: prescriptions, phases and doses."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from clinics.models import Patient
from flags.models import Flag
from flags.scans import OPEN_PHASE_REVIEW_EVERY, _first_dose_on
from schedules import scheduler
from schedules.models import EndKind, InjectionEvent, Prescription, PrescriptionPhase
from schedules.selectors import OUTCOME_ICONS, OUTCOME_LABELS, DoseOutcome, dose_outcome
from workspace.record.observations import FlagLists

NEXT_DOSES_SHOWN = 5
RECENT_DOSES_SHOWN = 10
EVENT_RELATED = ("phase", "prescription", "prescription__medication", "logged_by")


def prescriptions_of(patient: Patient) -> list[Prescription]:
    """All the patient's prescriptions, newest first, with their frozen phases."""
    return list(
        Prescription.objects.filter(patient=patient)
        .select_related("medication", "prescribed_by", "renal_acknowledged_by")
        .prefetch_related("phases")
        .order_by("-created_at", "-id")
    )


def current_of(prescriptions: list[Prescription]) -> Prescription | None:
    """The one the record follows, as the patient's own pages do: the newest active one, else
    the newest paused one, else the newest (stopped) one."""
    for status in (Prescription.Status.ACTIVE, Prescription.Status.PAUSED):
        for prescription in prescriptions:
            if prescription.status == status:
                return prescription
    return prescriptions[0] if prescriptions else None


@dataclass(frozen=True)
class PhaseRow:
    phase: PrescriptionPhase
    is_current: bool
    volume_ml: Decimal | None
    # An open phase not yet ended: the day its 14-day review falls (2.7), and whether a
    # review flag is waiting for the nurse now.
    review_due_on: date | None = None
    review_flag_open: bool = False


def phase_rows(
    prescription: Prescription,
    *,
    current_phase_id: int | None,
    flags: FlagLists,
    now: datetime,
) -> list[PhaseRow]:
    rows = []
    for phase in prescription.phases.all():
        volume = prescription.medication.volume_ml(phase.amount) if phase.is_injected else None
        review_on, flag_open = None, False
        if phase.end_kind == EndKind.OPEN and phase.ended_on is None:
            review_on, flag_open = _review_due(prescription, phase, flags, now)
        rows.append(PhaseRow(phase, phase.pk == current_phase_id, volume, review_on, flag_open))
    return rows


def _review_due(prescription, phase, flags: FlagLists, now: datetime):
    """2.7: every 14 days from the phase's first dose, the same marks the review scan uses.
    The review is due on the latest mark not yet covered by a resolved review flag."""
    waiting = any(flag.cause == Flag.Cause.OPEN_PHASE_REVIEW for flag in flags.open)
    first_on = _first_dose_on(phase, now)
    if first_on is None:
        return None, waiting
    zone = scheduler.zone_for(prescription.time_zone)
    today = now.astimezone(zone).date()
    periods = max((today - first_on).days // OPEN_PHASE_REVIEW_EVERY, 0)
    mark = first_on + timedelta(days=OPEN_PHASE_REVIEW_EVERY * max(periods, 1))
    reviewed = [
        flag.resolved_at.astimezone(zone).date()
        for flag in flags.resolved
        if flag.cause == Flag.Cause.OPEN_PHASE_REVIEW
    ]
    if periods >= 1 and reviewed and max(reviewed) >= mark:
        mark += timedelta(days=OPEN_PHASE_REVIEW_EVERY)
    return mark, waiting


# Doses ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRow:
    event: InjectionEvent
    outcome: str
    outcome_label: str
    icon: str
    days_off: int = 0
    # Still planned after its due time: not logged yet (the sweep marks it missed once its
    # window closes, 2.9).
    overdue: bool = False


def dose_row(event: InjectionEvent, now: datetime | None = None) -> DoseRow:
    outcome = dose_outcome(event)
    days_off = 0
    if event.status == InjectionEvent.Status.TAKEN and event.given_on:
        days_off = abs((event.given_on - event.due_on).days)
    overdue = now is not None and outcome == DoseOutcome.PLANNED and event.due_at < now
    return DoseRow(
        event,
        outcome.value,
        str(OUTCOME_LABELS[outcome]),
        OUTCOME_ICONS[outcome],
        days_off,
        overdue,
    )


def next_doses(
    prescription: Prescription | None, *, now: datetime, limit: int = NEXT_DOSES_SHOWN
) -> list[DoseRow]:
    if prescription is None or prescription.status == Prescription.Status.STOPPED:
        return []
    events = (
        prescription.events.filter(status=InjectionEvent.Status.PLANNED)
        .select_related(*EVENT_RELATED)
        .order_by("due_at", "id")[:limit]
    )
    return [dose_row(event, now) for event in events]


def recent_doses(patient: Patient, limit: int = RECENT_DOSES_SHOWN) -> list[DoseRow]:
    """Taken, skipped and missed doses of every prescription, newest first."""
    events = (
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            status__in=[
                InjectionEvent.Status.TAKEN,
                InjectionEvent.Status.SKIPPED,
                InjectionEvent.Status.MISSED,
            ],
        )
        .select_related(*EVENT_RELATED)
        .order_by("-due_at", "-id")[:limit]
    )
    return [dose_row(event) for event in events]


def doses_between(patient: Patient, first: date, last: date, *, now: datetime) -> list[DoseRow]:
    """Every dose (not cancelled) whose local planned date lies in [first, last], in order."""
    events = (
        InjectionEvent.objects.filter(prescription__patient=patient, due_on__range=(first, last))
        .exclude(status=InjectionEvent.Status.CANCELLED)
        .select_related(*EVENT_RELATED)
        .order_by("due_at", "id")
    )
    return [dose_row(event, now) for event in events]


def status_counts(rows: list[DoseRow]) -> dict[str, int]:
    """How many doses of a list went each way: a tally of the table, not an adherence rate."""
    counts = {outcome.value: 0 for outcome in DoseOutcome}
    for row in rows:
        counts[row.outcome] += 1
    return counts
