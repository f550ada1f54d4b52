"""What the nurse's patient record and visit report read (selectors: nothing here writes).

Every function takes a patient the caller already fetched through `patients_visible_to`
(section 5), and reads only that patient's rows. The record runs a fixed number of queries
whatever the number of doses, labs, flags or audit rows (a test holds it to that).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain

from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.functions import Cast, Trunc
from django.utils import formats
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from clinics.models import Patient
from flags.models import Flag, SymptomReport
from flags.scans import LAB_OVERDUE_AFTER, OPEN_PHASE_REVIEW_EVERY, _first_dose_on
from schedules import scheduler
from schedules.adherence import Adherence, adherence_for_patient
from schedules.models import (
    EndKind,
    InjectionEvent,
    LabOrder,
    LabResult,
    Prescription,
    PrescriptionPhase,
    ScheduleChange,
)
from schedules.selectors import (
    DoseOutcome,
    dose_outcome,
    due_lab_orders_of_patient,
    platelet_guidance,
)
from schedules.views.schedule import OUTCOME_ICONS, OUTCOME_LABELS

NEXT_DOSES_SHOWN = 5
RECENT_DOSES_SHOWN = 10
RESOLVED_FLAGS_SHOWN = 10
RESOLVED_FLAGS_WITHIN = timedelta(days=90)
SYMPTOM_REPORTS_SHOWN = 10
AUDIT_SHOWN = 20
# The record's timeline: the last year of treatment and the next three months.
TIMELINE_BACK_DAYS = 365
TIMELINE_AHEAD_DAYS = 90
# Up to this many days a period is drawn week by week, longer ones month by month.
WEEKLY_UP_TO_DAYS = 120

# Section 3: B12 below 180 pg/mL is deficient, 180-350 borderline, above 350 normal;
# homocysteine of 10 umol/L or more is above target.
B12_DEFICIENT_BELOW = 180
B12_NORMAL_ABOVE = 350
HOMOCYSTEINE_TARGET_BELOW = 10

EVENT_RELATED = ("phase", "prescription", "prescription__medication", "logged_by")
CHART_STATUSES = (
    InjectionEvent.Status.TAKEN,
    InjectionEvent.Status.MISSED,
    InjectionEvent.Status.SKIPPED,
    InjectionEvent.Status.PLANNED,
)


def local_today(patient: Patient, now: datetime) -> date:
    return now.astimezone(scheduler.zone_for(patient.time_zone)).date()


# Prescriptions and phases -------------------------------------------------------------------


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
    flags: "FlagLists",
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


def _review_due(prescription, phase, flags: "FlagLists", now: datetime):
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


def dose_row(event: InjectionEvent) -> DoseRow:
    outcome = dose_outcome(event)
    days_off = 0
    if event.status == InjectionEvent.Status.TAKEN and event.given_on:
        days_off = abs((event.given_on - event.due_on).days)
    return DoseRow(
        event, outcome.value, str(OUTCOME_LABELS[outcome]), OUTCOME_ICONS[outcome], days_off
    )


def next_doses(prescription: Prescription | None, limit: int = NEXT_DOSES_SHOWN) -> list[DoseRow]:
    if prescription is None or prescription.status == Prescription.Status.STOPPED:
        return []
    events = (
        prescription.events.filter(status=InjectionEvent.Status.PLANNED)
        .select_related(*EVENT_RELATED)
        .order_by("due_at", "id")[:limit]
    )
    return [dose_row(event) for event in events]


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


def doses_between(patient: Patient, first: date, last: date) -> list[DoseRow]:
    """Every dose (not cancelled) whose local planned date lies in [first, last], in order."""
    events = (
        InjectionEvent.objects.filter(prescription__patient=patient, due_on__range=(first, last))
        .exclude(status=InjectionEvent.Status.CANCELLED)
        .select_related(*EVENT_RELATED)
        .order_by("due_at", "id")
    )
    return [dose_row(event) for event in events]


def status_counts(rows: list[DoseRow]) -> dict[str, int]:
    """How many doses of a list went each way: a tally of the table, not an adherence rate."""
    counts = {outcome.value: 0 for outcome in DoseOutcome}
    for row in rows:
        counts[row.outcome] += 1
    return counts


# Flags, labs, symptoms -----------------------------------------------------------------------


@dataclass(frozen=True)
class FlagLists:
    open: list[Flag]
    resolved: list[Flag]


def flags_of(patient: Patient, *, now: datetime) -> FlagLists:
    """Open flags, most urgent first; flags resolved in the last 90 days, newest first."""
    related = ("prescription", "assigned_to", "resolved_by")
    flags = Flag.objects.filter(patient=patient).select_related(*related)
    open_flags = flags.filter(resolved_at__isnull=True).order_by("urgency", "opened_at", "pk")
    resolved = flags.filter(resolved_at__gte=now - RESOLVED_FLAGS_WITHIN).order_by(
        "-resolved_at", "-pk"
    )
    return FlagLists(list(open_flags), list(resolved[:RESOLVED_FLAGS_SHOWN]))


def flags_between(patient: Patient, start: datetime, end: datetime) -> list[Flag]:
    """Flags opened or resolved in [start, end), oldest opened first."""
    in_period = Q(opened_at__gte=start, opened_at__lt=end) | Q(
        resolved_at__gte=start, resolved_at__lt=end
    )
    return list(
        Flag.objects.filter(patient=patient)
        .filter(in_period)
        .select_related("prescription", "resolved_by")
        .order_by("opened_at", "pk")
    )


@dataclass(frozen=True)
class LabOrderRow:
    order: LabOrder
    state: str  # "upcoming", "due" or "overdue"
    overdue_on: date


def lab_orders_of(patient: Patient, *, now: datetime) -> list[LabOrderRow]:
    """Checks without a result yet; section 3: overdue 14 days after the due date."""
    today = local_today(patient, now)
    rows = []
    for order in due_lab_orders_of_patient(patient):
        overdue_on = order.due_on + LAB_OVERDUE_AFTER
        if today >= overdue_on:
            state = "overdue"
        elif today >= order.due_on:
            state = "due"
        else:
            state = "upcoming"
        rows.append(LabOrderRow(order, state, overdue_on))
    return rows


def lab_results_of(patient: Patient, first: date | None = None, last: date | None = None):
    results = LabResult.objects.filter(patient=patient).select_related("recorded_by")
    if first is not None and last is not None:
        results = results.filter(taken_on__range=(first, last))
    return list(results.order_by("-taken_on", "-id"))


def symptom_reports_of(patient: Patient, *, limit: int | None = SYMPTOM_REPORTS_SHOWN):
    reports = SymptomReport.objects.filter(patient=patient).order_by("-reported_at", "-pk")
    reports = list(reports[:limit] if limit else reports)
    known = SymptomReport.Symptom.values
    for report in reports:
        report.labels = [
            SymptomReport.Symptom(code).label for code in report.symptoms if code in known
        ]
    return reports


def symptom_reports_between(patient: Patient, start: datetime, end: datetime):
    reports = list(
        SymptomReport.objects.filter(
            patient=patient, reported_at__gte=start, reported_at__lt=end
        ).order_by("reported_at", "pk")
    )
    known = SymptomReport.Symptom.values
    for report in reports:
        report.labels = [
            SymptomReport.Symptom(code).label for code in report.symptoms if code in known
        ]
    return reports


# The audit trail -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One change to the patient's data: who, when, what, and why where it was given."""

    at: datetime
    who: str
    what: str
    why: str = ""
    details: list[str] = field(default_factory=list)
    source: str = "audit"  # "audit" (the audit log) or "schedule" (a schedule rebuild)


@dataclass(frozen=True)
class AuditTrail:
    entries: list[AuditEntry]
    total: int

    @property
    def is_complete(self) -> bool:
        return len(self.entries) >= self.total


def _audit_events(patient: Patient) -> QuerySet[AuditEvent]:
    """Changes (not views) recorded about the patient, their prescriptions or their doses."""
    prescription_ids = Prescription.objects.filter(patient=patient).annotate(
        key=Cast("pk", CharField())
    )
    event_ids = InjectionEvent.objects.filter(prescription__patient=patient).annotate(
        key=Cast("pk", CharField())
    )
    about = (
        Q(patient=patient)
        | Q(target_type="schedules.prescription", target_id__in=prescription_ids.values("key"))
        | Q(target_type="schedules.injectionevent", target_id__in=event_ids.values("key"))
    )
    return AuditEvent.objects.filter(about).exclude(action=AuditEvent.Action.VIEW)


def _schedule_changes(patient: Patient) -> QuerySet[ScheduleChange]:
    return ScheduleChange.objects.filter(prescription__patient=patient)


def audit_trail(patient: Patient, *, limit: int | None = AUDIT_SHOWN) -> AuditTrail:
    """The audit log's changes and the schedule's rebuilds (2.8), newest first."""
    events = _audit_events(patient).select_related("actor").order_by("-at", "-id")
    changes = (
        _schedule_changes(patient)
        .select_related("changed_by", "prescription")
        .order_by("-changed_at", "-id")
    )
    if limit is not None:
        events, changes = events[:limit], changes[:limit]
    entries = sorted(
        chain((_from_audit(e) for e in events), (_from_schedule(c) for c in changes)),
        key=lambda entry: entry.at,
        reverse=True,
    )
    if limit is None:
        return AuditTrail(entries, len(entries))
    total = _audit_events(patient).count() + _schedule_changes(patient).count()
    return AuditTrail(entries[:limit], total)


def _from_audit(event: AuditEvent) -> AuditEntry:
    who = event.actor.display_name if event.actor else event.actor_label
    return AuditEntry(
        at=event.at,
        who=who,
        what=f"{event.get_action_display().capitalize()}: {event.summary}",
        details=_change_lines(event.changes),
    )


def _change_lines(changes) -> list[str]:
    lines = []
    for name, value in (changes or {}).items():
        label = str(name).replace("_", " ")
        if isinstance(value, list) and len(value) == 2:
            lines.append(f"{label}: {value[0]} → {value[1]}")
        else:
            lines.append(f"{label}: {value}")
    return lines


def _from_schedule(change: ScheduleChange) -> AuditEntry:
    who = change.changed_by.display_name if change.changed_by else _("the scheduler")
    what = _("Schedule of %(regimen)s rebuilt: %(added)s doses added, %(removed)s cancelled") % {
        "regimen": change.prescription.regimen_name,
        "added": change.events_added,
        "removed": change.events_removed,
    }
    return AuditEntry(
        at=change.changed_at, who=who, what=what, why=change.reason, source="schedule"
    )


# The timeline chart --------------------------------------------------------------------------


def timeline_range(prescriptions: list[Prescription], *, today: date) -> tuple[date, date] | None:
    """The record's chart: from the first dose (at most a year back) to three months ahead."""
    if not prescriptions:
        return None
    start = min(prescription.start_on for prescription in prescriptions)
    first = max(start, today - timedelta(days=TIMELINE_BACK_DAYS))
    return first, max(today, first) + timedelta(days=TIMELINE_AHEAD_DAYS)


@dataclass(frozen=True)
class TimelineChart:
    data: dict  # for json_script and static/js/patient_record_chart.js

    @property
    def rows(self) -> list[tuple]:
        """The doses per period as table rows: label, taken, missed, skipped, planned."""
        doses = self.data["doses"]
        return list(
            zip(
                doses["labels"],
                *(doses[str(status)] for status in CHART_STATUSES),
                strict=True,
            )
        )


def timeline_chart(patient: Patient, *, first: date, last: date) -> TimelineChart:
    """Data for static/js/patient_record_chart.js, ready for json_script.

    Doses per week (periods up to 120 days) or per calendar month, by status, counted in the
    database; B12 and homocysteine results of the period with the thresholds of section 3.
    The page prints the same numbers as tables for anyone who cannot see the chart.
    """
    kind = "week" if (last - first).days <= WEEKLY_UP_TO_DAYS else "month"
    buckets = _buckets(first, last, kind)
    counts = {status: [0] * len(buckets) for status in CHART_STATUSES}
    index = {start: i for i, start in enumerate(buckets)}
    rows = (
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            due_on__range=(first, last),
            status__in=CHART_STATUSES,
        )
        .annotate(bucket=Trunc("due_on", kind))
        .values("bucket", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        bucket = row["bucket"]
        bucket = bucket.date() if isinstance(bucket, datetime) else bucket
        counts[row["status"]][index[bucket]] += row["n"]
    labs = sorted(lab_results_of(patient, first, last), key=lambda r: (r.taken_on, r.pk))
    data = {
        "period": {"first": first.isoformat(), "last": last.isoformat(), "kind": kind},
        "doses": {
            "labels": [_bucket_label(start, kind) for start in buckets],
            "starts": [start.isoformat() for start in buckets],
            **{str(status): values for status, values in counts.items()},
        },
        "labs": {
            "labels": [result.taken_on.isoformat() for result in labs],
            "b12": [_number(result.b12_pg_ml) for result in labs],
            "homocysteine": [_number(result.homocysteine_umol_l) for result in labs],
        },
        "thresholds": {
            "b12Deficient": B12_DEFICIENT_BELOW,
            "b12Normal": B12_NORMAL_ABOVE,
            "homocysteineTarget": HOMOCYSTEINE_TARGET_BELOW,
        },
        "text": _chart_text(kind),
    }
    return TimelineChart(data)


def _buckets(first: date, last: date, kind: str) -> list[date]:
    if kind == "week":
        start = first - timedelta(days=first.weekday())
        return [start + timedelta(weeks=n) for n in range((last - start).days // 7 + 1)]
    start, buckets = first.replace(day=1), []
    while start <= last:
        buckets.append(start)
        start = scheduler.add_months(start, 1)
    return buckets


def _bucket_label(start: date, kind: str) -> str:
    if kind == "week":
        return _("w/c %(day)s") % {"day": formats.date_format(start, "j M")}
    return formats.date_format(start, "M Y")


def _chart_text(kind: str) -> dict:
    return {
        "doses": _("Doses per week") if kind == "week" else _("Doses per month"),
        "taken": _("taken"),
        "missed": _("missed"),
        "skipped": _("skipped"),
        "planned": _("planned"),
        "b12": _("B12 (pg/mL)"),
        "homocysteine": _("Homocysteine (umol/L)"),
        "labs": _("B12 and homocysteine"),
        "b12Deficient": _("B12 deficient below 180 pg/mL"),
        "b12Normal": _("B12 normal above 350 pg/mL"),
        "homocysteineTarget": _("Homocysteine target: below 10 umol/L"),
    }


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def local_bounds(patient: Patient, first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) instants of the local days first..last in the patient's zone."""
    zone = scheduler.zone_for(patient.time_zone)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


# The pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Who the patient is and where their treatment stands, at the top of both pages."""

    patient: Patient
    prescription: Prescription | None
    earlier: list[Prescription]
    phases: list[PhaseRow]
    platelet_status: str
    platelet_label: str

    @property
    def status(self) -> str:
        return self.prescription.status if self.prescription else ""


def header_of(patient: Patient, *, flags: FlagLists, now: datetime, upcoming=None, recent=None):
    """The header, and the next doses of the current prescription (the record lists them)."""
    prescriptions = prescriptions_of(patient)
    current = current_of(prescriptions)
    upcoming = next_doses(current) if upcoming is None else upcoming
    phase_id = _current_phase_id(current, upcoming, recent or [])
    platelets = platelet_guidance(patient)
    header = Header(
        patient=patient,
        prescription=current,
        earlier=[p for p in prescriptions if p is not current],
        phases=phase_rows(current, current_phase_id=phase_id, flags=flags, now=now)
        if current
        else [],
        platelet_status=platelets,
        platelet_label=str(LabResult.PlateletStatus(platelets).label),
    )
    return header, upcoming


def _current_phase_id(current, upcoming: list[DoseRow], recent: list[DoseRow]) -> int | None:
    """The phase of the next planned dose; once nothing is planned, of the last one given."""
    if current is None:
        return None
    if upcoming:
        return upcoming[0].event.phase_id
    for row in recent:
        if row.event.prescription_id == current.pk:
            return row.event.phase_id
    return None


@dataclass(frozen=True)
class PatientRecord:
    header: Header
    adherence: Adherence
    next_doses: list[DoseRow]
    recent_doses: list[DoseRow]
    flags: FlagLists
    lab_orders: list[LabOrderRow]
    lab_results: list[LabResult]
    symptom_reports: list[SymptomReport]
    audit: AuditTrail
    chart: TimelineChart | None


def patient_record(patient: Patient, *, now: datetime, audit_all: bool = False) -> PatientRecord:
    """Everything the nurse's record of one patient shows, in a fixed number of queries."""
    flags = flags_of(patient, now=now)
    recent = recent_doses(patient)
    header, upcoming = header_of(patient, flags=flags, now=now, recent=recent)
    today = local_today(patient, now)
    span = timeline_range(
        [header.prescription, *header.earlier] if header.prescription else [], today=today
    )
    return PatientRecord(
        header=header,
        adherence=adherence_for_patient(patient, now=now),
        next_doses=upcoming,
        recent_doses=recent,
        flags=flags,
        lab_orders=lab_orders_of(patient, now=now),
        lab_results=lab_results_of(patient),
        symptom_reports=symptom_reports_of(patient),
        audit=audit_trail(patient, limit=None if audit_all else AUDIT_SHOWN),
        chart=timeline_chart(patient, first=span[0], last=span[1]) if span else None,
    )


@dataclass(frozen=True)
class VisitReport:
    header: Header
    first: date
    last: date
    adherence: Adherence
    adherence_on: date
    doses: list[DoseRow]
    counts: dict[str, int]
    lab_results: list[LabResult]
    flags: list[Flag]
    symptom_reports: list[SymptomReport]
    chart: TimelineChart


def visit_report(patient: Patient, *, first: date, last: date, now: datetime) -> VisitReport:
    """One patient over the local days first..last: doses, labs, flags and symptoms.

    Adherence is the 30- and 90-day figures as they stood at the end of the period (or now,
    for a period running into the future)."""
    flags = flags_of(patient, now=now)
    header, _upcoming = header_of(patient, flags=flags, now=now)
    start, end = local_bounds(patient, first, last)
    adherence_at = min(now, end)
    doses = doses_between(patient, first, last)
    return VisitReport(
        header=header,
        first=first,
        last=last,
        adherence=adherence_for_patient(patient, now=adherence_at),
        adherence_on=adherence_at.astimezone(scheduler.zone_for(patient.time_zone)).date(),
        doses=doses,
        counts=status_counts(doses),
        lab_results=lab_results_of(patient, first, last),
        flags=flags_between(patient, start, end),
        symptom_reports=symptom_reports_between(patient, start, end),
        chart=timeline_chart(patient, first=first, last=last),
    )
