"""What the nurse's patient record and visit report read (selectors: nothing here writes).

Every function takes a patient the caller already fetched through `patients_visible_to`
(section 5), and reads only that patient's rows. The record runs a fixed number of queries
whatever the number of doses, labs, flags or audit rows (a test holds it to that).

The package: `treatment` (prescriptions, phases, doses), `observations` (flags, labs,
symptoms), `audit` (the audit trail), `chart` (the timeline's data); this module puts them
together for the two pages.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Min, Q

from clinics.models import Patient
from flags.models import Flag, SymptomReport
from schedules import scheduler
from schedules.adherence import WIDEST_WINDOW, Adherence, adherence_for_patient
from schedules.models import InjectionEvent, LabResult, Prescription
from schedules.selectors import platelet_guidance
from workspace.record.audit import AUDIT_SHOWN, AuditEntry, AuditTrail, audit_trail
from workspace.record.chart import TimelineChart, timeline_chart, timeline_range
from workspace.record.observations import (
    RESOLVED_FLAGS_WITHIN,
    FlagLists,
    LabOrderRow,
    flags_between,
    flags_of,
    lab_orders_of,
    lab_results_of,
    local_bounds,
    local_today,
    symptom_reports_between,
    symptom_reports_of,
)
from workspace.record.treatment import (
    DoseRow,
    PhaseRow,
    current_of,
    doses_between,
    next_doses,
    phase_rows,
    prescriptions_of,
    recent_doses,
    status_counts,
)

__all__ = [
    "AuditEntry",
    "AuditTrail",
    "DoseRow",
    "FlagLists",
    "LabOrderRow",
    "PatientRecord",
    "PhaseRow",
    "TimelineChart",
    "VisitReport",
    "audit_trail",
    "flags_of",
    "lab_orders_of",
    "local_today",
    "patient_record",
    "record_valid_until",
    "timeline_chart",
    "visit_report",
]


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
    upcoming = next_doses(current, now=now) if upcoming is None else upcoming
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


# How long after its due instant a dose still counts in what the record shows: the
# adherence windows, and the widest dose window the next-dose search looks back over.
DOSE_SPANS = (timedelta(days=30), timedelta(days=90), WIDEST_WINDOW)


def record_valid_until(patient: Patient, *, now: datetime) -> datetime:
    """The first instant after `now` at which the clock alone changes what `patient_record`
    shows; until then, with the data unchanged, it shows the same.

    Everything the record reads of the clock is one of: the local date (in the patient's,
    a prescription's, the clinic's or the site's zone), a dose's due instant passing (it is
    overdue, it counts, it is the last one due), a dose leaving a window that counts back
    from now (30 and 90 days of adherence, WIDEST_WINDOW), and a resolved flag leaving the
    RESOLVED_FLAGS_WITHIN shown. Three queries; a test renders records either side of
    these instants.
    """
    zones = {patient.time_zone, patient.clinic.time_zone, settings.TIME_ZONE}
    zones.update(Prescription.objects.filter(patient=patient).values_list("time_zone", flat=True))
    instants = [_next_midnight(now, zone) for zone in zones]
    events = InjectionEvent.objects.filter(prescription__patient=patient)
    spans = {
        f"out_{n}": Min("due_at", filter=Q(due_at__gte=now - span))
        for n, span in enumerate(DOSE_SPANS)
    }
    edges = events.aggregate(next_due=Min("due_at", filter=Q(due_at__gte=now)), **spans)
    if edges["next_due"] is not None:
        instants.append(edges["next_due"])
    for n, span in enumerate(DOSE_SPANS):
        if edges[f"out_{n}"] is not None:
            instants.append(edges[f"out_{n}"] + span)
    resolved = Flag.objects.filter(
        patient=patient, resolved_at__gte=now - RESOLVED_FLAGS_WITHIN
    ).aggregate(first=Min("resolved_at"))["first"]
    if resolved is not None:
        instants.append(resolved + RESOLVED_FLAGS_WITHIN)
    return min(instants)


def _next_midnight(now: datetime, zone: str) -> datetime:
    """The next local midnight in `zone` (the start of the next local date)."""
    tz = scheduler.zone_for(zone)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=tz)


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
    doses = doses_between(patient, first, last, now=now)
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
