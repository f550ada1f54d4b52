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
and handed to the database as a CASE, as is the local date in each time zone present: the
rules are never written twice, and the SQL runs on PostgreSQL and SQLite alike.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce

from clinics.models import Patient
from schedules import scheduler
from schedules.models import InjectionEvent, Prescription, PrescriptionPhase
from schedules.specs import phase_spec

Status = InjectionEvent.Status
RECORDED = (Status.TAKEN, Status.SKIPPED, Status.MISSED)
LAPSED = (Status.SKIPPED, Status.MISSED)
# The widest window of 2.9 is 3 days either side; a day more covers every time zone's "today".
WIDEST_WINDOW = timedelta(days=4)
# Before any dose: the streak of a patient never given one counts from the beginning.
LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)


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


class DaysBetween(Func):
    """Whole days from the second date to the first, on PostgreSQL and SQLite alike."""

    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


@dataclass(frozen=True)
class _Rules:
    """The window's slack of each kind of phase and the local date in each time zone, among
    these patients' prescriptions, as SQL expressions: the scheduler decides both, SQL
    only looks them up (the rule is never written twice)."""

    slack: Case
    today: Case

    @classmethod
    def of(cls, patient_ids: list[int], now: datetime) -> "_Rules":
        groups = (
            PrescriptionPhase.objects.filter(prescription__patient_id__in=patient_ids)
            .values_list("prescription__time_zone", "frequency_kind", "frequency_every")
            .order_by()
            .distinct()
        )
        zones, kinds = set(), set()
        for zone, kind, every in groups:
            zones.add(zone)
            kinds.add((kind, every))
        slack = [
            When(
                phase__frequency_kind=kind,
                phase__frequency_every=every,
                then=Value(window_slack_days(_phase_of(kind, every))),
            )
            for kind, every in sorted(kinds)
        ]
        today = [
            When(
                prescription__time_zone=zone,
                then=Value(now.astimezone(scheduler.zone_for(zone)).date()),
            )
            for zone in sorted(zones)
        ]
        return cls(
            slack=Case(*slack, default=Value(0), output_field=IntegerField()),
            today=Case(*today, default=Value(now.astimezone(UTC).date())),
        )

    def annotate(self, events):
        """Events with how many local days ago they fell due, how many days from their date
        they were given, and the slack of their window."""
        return events.annotate(
            slack=self.slack,
            days_ago=DaysBetween(self.today, F("due_on")),
            given_off_by=Abs(DaysBetween(F("given_on"), F("due_on"))),
        )


def _phase_of(kind: str, every: int) -> PrescriptionPhase:
    """A phase of this frequency, enough for the scheduler to tell its window."""
    return PrescriptionPhase(
        frequency_kind=kind,
        frequency_every=every,
        amount=1,
        unit="mcg",
        route="IM",
        end_kind="lifelong",
    )


def _closed_unlogged() -> Q:
    """Planned in an active prescription, with its window closed: missed (2.9), whether or
    not the sweep has marked it yet (the sweep, too, looks only at active prescriptions)."""
    return Q(
        status=Status.PLANNED,
        prescription__status=Prescription.Status.ACTIVE,
        days_ago__gt=F("slack"),
    )


def adherence_for_patients(patient_ids: Iterable[int], *, now: datetime) -> dict[int, Adherence]:
    """Each patient's adherence as of ``now``; a patient with no doses gets zeros.

    Three queries whatever the number of patients: the kinds of phases and time zones, the
    counts over the last 90 days, and per patient the last dose given, the next one due and
    the missed streak, each an index scan of that patient's events."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rules = _Rules.of(ids, now)
    counts = _window_counts(ids, rules, now)
    edges = _edges(ids, rules, now)
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


def _window_counts(ids: list[int], rules: _Rules, now: datetime) -> dict[int, dict]:
    since_30, since_90 = now - timedelta(days=30), now - timedelta(days=90)
    counted = Q(status__in=RECORDED) | _closed_unlogged()
    taken = Q(status=Status.TAKEN)
    in_30 = Q(due_at__gte=since_30)
    on_time = taken & Q(given_off_by__lte=F("slack"))
    rows = (
        rules.annotate(InjectionEvent.objects.filter(prescription__patient_id__in=ids))
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


def _edges(ids: list[int], rules: _Rules, now: datetime) -> dict[int, dict]:
    """Per patient: when the latest dose was given, the next dose due whose window is still
    open, and the missed or skipped doses since the latest dose given (all of them for a
    patient never given one). The latest ones are maxima, not "ORDER BY ... LIMIT
    1": with a limit PostgreSQL may walk the whole table's due_at index looking for this
    patient's rows; an aggregate reads only this patient's, through (prescription, status)."""
    events = InjectionEvent.objects.filter(prescription__patient_id=OuterRef("pk"))
    taken = events.filter(status=Status.TAKEN).values("prescription__patient_id").order_by()
    next_due = (
        rules.annotate(events)
        .filter(
            status=Status.PLANNED,
            prescription__status=Prescription.Status.ACTIVE,
            due_at__gte=now - WIDEST_WINDOW,
            days_ago__lte=F("slack"),
        )
        .order_by("due_at")
    )
    outer_taken = InjectionEvent.objects.filter(
        prescription__patient_id=OuterRef(OuterRef("pk")), status=Status.TAKEN
    )
    last_taken_due = Subquery(
        outer_taken.values("prescription__patient_id")
        .order_by()
        .annotate(last=Max("due_at"))
        .values("last")
    )
    streak = (
        rules.annotate(events)
        .filter(due_at__lt=now, due_at__gt=Coalesce(last_taken_due, Value(LONG_AGO)))
        .filter(Q(status__in=LAPSED) | _closed_unlogged())
        .values("prescription__patient_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Patient.objects.filter(pk__in=ids)
        .order_by()
        .annotate(
            last_given_at=Subquery(taken.annotate(last=Max("given_at")).values("last")),
            next_due_at=Subquery(next_due.values("due_at")[:1]),
            missed_streak=Coalesce(Subquery(streak), Value(0)),
        )
        .values("pk", "last_given_at", "next_due_at", "missed_streak")
    )
    return {row.pop("pk"): row for row in rows}
