"""Adherence: how many doses a patient was given of the doses due, how many on time, and how
many in a row were missed, for many patients at once in a constant number of queries.

Definitions (issue 6, clinical-rules 2.9):

- A dose is *due* in the last N days when its ``due_at`` lies in [now - N days, now) and it
  is taken, skipped or missed, or still planned after its window (2.9: after its window an
  unlogged dose is missed, whether or not the periodic sweep has marked it yet). Cancelled
  doses never count; a planned dose whose window is still open does not count yet.
- A dose is *given* when it is taken, and *on time* when the local date it was given lies in
  its window (2.9).
- The *missed streak* is the number of consecutive missed or skipped doses since the latest
  dose given. Conservative choice: a skipped dose counts against adherence, as a missed one
  does; the pages that show these figures say so.

The window is decided in one place, ``scheduler.dose_window``. SQL needs it per row, so the
slack of each (frequency kind, every) pair present in the data is asked of the scheduler
and handed to the database as a CASE: the rule is never written twice.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from clinics.models import Patient
from schedules import scheduler
from schedules.models import InjectionEvent, Prescription, PrescriptionPhase
from schedules.specs import phase_spec

Status = InjectionEvent.Status
RECORDED = (Status.TAKEN, Status.SKIPPED, Status.MISSED)
# Before any dose: the streak of a patient never given one counts from the beginning.
LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)
LAPSED = (Status.SKIPPED, Status.MISSED)


@dataclass(frozen=True)
class Adherence:
    given_30: int
    due_30: int
    given_90: int
    due_90: int
    on_time: int
    on_time_rate_90: float | None
    missed_streak: int
    last_given_at: datetime | None
    next_due_at: datetime | None

    @property
    def rate_30(self) -> float | None:
        return self.given_30 / self.due_30 if self.due_30 else None

    @property
    def rate_90(self) -> float | None:
        return self.given_90 / self.due_90 if self.due_90 else None


NO_DOSES = Adherence(0, 0, 0, 0, 0, None, 0, None, None)


def window_slack_days(phase: PrescriptionPhase) -> int:
    """How many days either side of its local date a dose of this phase is on time (2.9)."""
    reference = date(2000, 1, 1)
    first, _last = scheduler.dose_window(phase_spec(phase), reference)
    return (reference - first).days


def _slack_expression(patient_ids: list[int]) -> Case:
    """The window's slack for each event's phase, as SQL: one CASE arm per (frequency kind,
    every) pair among these patients' phases, each answered by the scheduler."""
    phases = (
        PrescriptionPhase.objects.filter(prescription__patient_id__in=patient_ids)
        .order_by("frequency_kind", "frequency_every")
        .distinct("frequency_kind", "frequency_every")
    )
    arms = [
        When(
            phase__frequency_kind=phase.frequency_kind,
            phase__frequency_every=phase.frequency_every,
            then=Value(window_slack_days(phase)),
        )
        for phase in phases
    ]
    return Case(*arms, default=Value(0), output_field=IntegerField())


def _local_today(now: datetime) -> Cast:
    """The date it is now in the prescription's time zone, in SQL."""
    local = Func(
        F("prescription__time_zone"), Value(now), function="timezone", output_field=DateTimeField()
    )
    return Cast(local, DateField())


def _shifted(slack: Case, sign: int) -> ExpressionWrapper:
    """The event's local date moved by its slack (PostgreSQL: date +/- integer is a date)."""
    if sign > 0:
        return ExpressionWrapper(F("due_on") + slack, output_field=DateField())
    return ExpressionWrapper(F("due_on") - slack, output_field=DateField())


def _closed_unlogged(now: datetime) -> Q:
    """Planned in an active prescription, with its window closed: missed (2.9), whether or
    not the sweep has marked it yet (the sweep, too, looks only at active prescriptions)."""
    return Q(
        status=Status.PLANNED,
        prescription__status=Prescription.Status.ACTIVE,
        window_last__lt=_local_today(now),
    )


def _counted(now: datetime) -> Q:
    return Q(status__in=RECORDED) | _closed_unlogged(now)


def _lapsed(now: datetime) -> Q:
    return Q(status__in=LAPSED) | _closed_unlogged(now)


def adherence_for_patients(patient_ids: Iterable[int], *, now: datetime) -> dict[int, Adherence]:
    """Each patient's adherence as of ``now``; a patient with no doses gets zeros.

    Three queries whatever the number of patients: the phases' windows, the counts over the
    last 90 days, and per patient the last dose given, the next one due and the streak."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    slack = _slack_expression(ids)
    counts = _window_counts(ids, slack, now)
    edges = _edges(ids, slack, now)
    result = {}
    for pk in ids:
        c = counts.get(pk, {})
        e = edges.get(pk, {})
        given_90, on_time = c.get("given_90", 0), c.get("on_time", 0)
        result[pk] = Adherence(
            given_30=c.get("given_30", 0),
            due_30=c.get("due_30", 0),
            given_90=given_90,
            due_90=c.get("due_90", 0),
            on_time=on_time,
            on_time_rate_90=on_time / given_90 if given_90 else None,
            missed_streak=e.get("missed_streak", 0),
            last_given_at=e.get("last_given_at"),
            next_due_at=e.get("next_due_at"),
        )
    return result


def adherence_for_patient(patient, *, now: datetime) -> Adherence:
    return adherence_for_patients([patient.pk], now=now).get(patient.pk, NO_DOSES)


def _with_window(events, slack: Case):
    """Events with the first and last local dates of their window (2.9)."""
    return events.annotate(window_first=_shifted(slack, -1), window_last=_shifted(slack, +1))


def _window_counts(ids: list[int], slack: Case, now: datetime) -> dict[int, dict]:
    since_30, since_90 = now - timedelta(days=30), now - timedelta(days=90)
    counted = _counted(now)
    taken = Q(status=Status.TAKEN)
    in_30 = Q(due_at__gte=since_30)
    on_time = taken & Q(given_on__gte=F("window_first"), given_on__lte=F("window_last"))
    rows = (
        _with_window(InjectionEvent.objects.filter(prescription__patient_id__in=ids), slack)
        .filter(due_at__gte=since_90, due_at__lt=now)
        .values("prescription__patient_id")
        .order_by()
        .annotate(
            due_90=Count("pk", filter=counted),
            given_90=Count("pk", filter=taken),
            due_30=Count("pk", filter=counted & in_30),
            given_30=Count("pk", filter=taken & in_30),
            on_time=Count("pk", filter=on_time),
        )
    )
    return {row.pop("prescription__patient_id"): row for row in rows}


def _edges(ids: list[int], slack: Case, now: datetime) -> dict[int, dict]:
    """Per patient: when a dose was last given, when the next is due, and the streak of
    missed or skipped doses since the last one given (correlated subqueries, each an index
    scan per patient)."""
    last_taken_due = Subquery(
        InjectionEvent.objects.filter(
            prescription__patient_id=OuterRef(OuterRef("pk")), status=Status.TAKEN
        )
        .order_by("-due_at")
        .values("due_at")[:1]
    )
    patients_events = InjectionEvent.objects.filter(prescription__patient_id=OuterRef("pk"))
    since = Coalesce(last_taken_due, Value(LONG_AGO), output_field=DateTimeField())
    streak = (
        _with_window(patients_events, slack)
        .filter(_lapsed(now), due_at__lt=now, due_at__gt=since)
        .order_by()
        .values("prescription__patient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_given = (
        patients_events.filter(status=Status.TAKEN).order_by("-given_at").values("given_at")[:1]
    )
    next_due = (
        _with_window(patients_events, slack)
        .filter(
            status=Status.PLANNED,
            prescription__status=Prescription.Status.ACTIVE,
            window_last__gte=_local_today(now),
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    rows = (
        Patient.objects.filter(pk__in=ids)
        .order_by()
        .annotate(
            last_given_at=Subquery(last_given),
            next_due_at=Subquery(next_due),
            missed_streak=Coalesce(Subquery(streak), 0),
        )
        .values("pk", "last_given_at", "next_due_at", "missed_streak")
    )
    return {row.pop("pk"): row for row in rows}
