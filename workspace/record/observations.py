"""Flags, lab checks and results, and symptom reports of one patient."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from clinics.models import Patient
from flags.models import Flag, SymptomReport
from flags.services import LAB_OVERDUE_AFTER
from schedules import scheduler
from schedules.models import LabOrder, LabResult
from schedules.selectors import due_lab_orders_of_patient

RESOLVED_FLAGS_SHOWN = 10
RESOLVED_FLAGS_WITHIN = timedelta(days=90)
SYMPTOM_REPORTS_SHOWN = 10


def local_today(patient: Patient, now: datetime) -> date:
    return now.astimezone(scheduler.zone_for(patient.time_zone)).date()


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


def symptom_reports_of(patient: Patient, *, limit: int = SYMPTOM_REPORTS_SHOWN):
    """The latest reports, newest first."""
    reports = SymptomReport.objects.filter(patient=patient).order_by("-reported_at", "-pk")
    return _labelled(reports[:limit])


def symptom_reports_between(patient: Patient, start: datetime, end: datetime):
    """Reports made in [start, end), oldest first."""
    reports = SymptomReport.objects.filter(
        patient=patient, reported_at__gte=start, reported_at__lt=end
    ).order_by("reported_at", "pk")
    return _labelled(reports)


def _labelled(reports) -> list[SymptomReport]:
    """The symptoms in words, as the patient chose them."""
    known = SymptomReport.Symptom.values
    reports = list(reports)
    for report in reports:
        report.labels = [
            SymptomReport.Symptom(code).label for code in report.symptoms if code in known
        ]
    return reports


def local_bounds(patient: Patient, first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) instants of the local days first..last in the patient's zone."""
    zone = scheduler.zone_for(patient.time_zone)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end
