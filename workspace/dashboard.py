"""The nurse's dashboard: one row per patient of the nurse's clinics, read in a fixed number
of queries whatever the number of patients (each figure is fetched for all the rows at once).

Words on the page:
- *Phase*: what the current phase of the prescription is, as its end describes it: a phase
  that ends after a count of doses or of days is *loading*, an open one (until a nurse records
  "no further improvement", 2.7) is *open*, a lifelong one is *maintenance*.
- *Dose overdue*: the most recent dose due was not given (a missed streak of one or more).
  Conservative choice: a skipped dose counts as not given, as it does for adherence.
- *Lab overdue*: a check still without a result 14 days after its due date (section 3).
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils.translation import gettext_lazy as _

from clinics.models import Patient
from clinics.selectors import patients_visible_to
from flags.models import Flag
from flags.services import lab_order_is_overdue
from schedules import scheduler
from schedules.adherence import NO_DOSES, Adherence, adherence_for_patients
from schedules.models import (
    EndKind,
    InjectionEvent,
    LabOrder,
    LabResult,
    Prescription,
    PrescriptionPhase,
)


class PhaseKind(StrEnum):
    LOADING = "loading"
    MAINTENANCE = "maintenance"
    OPEN = "open"


PHASE_KIND_LABELS = {
    PhaseKind.LOADING: _("Loading"),
    PhaseKind.MAINTENANCE: _("Maintenance"),
    PhaseKind.OPEN: _("Open (until no further improvement)"),
}


def phase_kind(phase: PrescriptionPhase | None) -> PhaseKind | None:
    if phase is None:
        return None
    if phase.end_kind == EndKind.OPEN:
        return PhaseKind.OPEN
    if phase.end_kind == EndKind.LIFELONG:
        return PhaseKind.MAINTENANCE
    return PhaseKind.LOADING


@dataclass
class DashboardRow:
    patient: Patient
    adherence: Adherence = NO_DOSES
    prescription: Prescription | None = None
    phase: PrescriptionPhase | None = None
    flags: list[Flag] = field(default_factory=list)
    overdue_labs: list[LabOrder] = field(default_factory=list)
    last_b12: LabResult | None = None
    last_homocysteine: LabResult | None = None

    @property
    def phase_kind(self) -> PhaseKind | None:
        return phase_kind(self.phase)

    @property
    def phase_kind_label(self) -> str:
        kind = self.phase_kind
        return str(PHASE_KIND_LABELS[kind]) if kind else ""

    @property
    def top_flag(self) -> Flag | None:
        return self.flags[0] if self.flags else None

    @property
    def dose_overdue(self) -> bool:
        return self.adherence.missed_streak > 0

    @property
    def zone(self) -> str:
        return self.patient.time_zone

    @property
    def next_due_local(self) -> datetime | None:
        return _local(self.adherence.next_due_at, self.zone)

    @property
    def last_given_local(self) -> datetime | None:
        return _local(self.adherence.last_given_at, self.zone)

    @property
    def attention(self) -> tuple:
        """Needs attention first: the most urgent open flag, then the longest missed streak,
        then overdue labs, then the lowest adherence over 30 days."""
        urgency = self.top_flag.urgency if self.top_flag else 99
        rate = self.adherence.rate_30
        return (
            urgency,
            -self.adherence.missed_streak,
            -len(self.overdue_labs),
            2.0 if rate is None else rate,
        )


def _local(instant: datetime | None, zone: str) -> datetime | None:
    return instant.astimezone(scheduler.zone_for(zone)) if instant else None


def dashboard_patients(user, *, search: str = "", cause: str = "") -> QuerySet[Patient]:
    """The nurse's patients (section 5), by name, narrowed in SQL by name and flag cause."""
    patients = patients_visible_to(user).distinct().order_by(*Patient._meta.ordering, "pk")
    for word in search.split():
        patients = patients.filter(
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__username__icontains=word)
        )
    if cause:
        open_of_cause = Flag.objects.filter(
            patient=OuterRef("pk"), cause=cause, resolved_at__isnull=True
        )
        patients = patients.filter(Exists(open_of_cause))
    return patients


def dashboard_rows(patients: Iterable[Patient], *, now: datetime) -> list[DashboardRow]:
    """A row per patient, in the order given. Ten queries whatever the number of patients."""
    rows = {patient.pk: DashboardRow(patient=patient) for patient in patients}
    if not rows:
        return []
    ids = list(rows)
    for pk, adherence in adherence_for_patients(ids, now=now).items():
        rows[pk].adherence = adherence
    for prescription in _current_prescriptions(ids):
        rows[prescription.patient_id].prescription = prescription
    by_prescription = {row.prescription.pk: row for row in rows.values() if row.prescription}
    for prescription_id, phase in _current_phases(list(by_prescription)).items():
        by_prescription[prescription_id].phase = phase
    for flag in _open_flags(ids):
        rows[flag.patient_id].flags.append(flag)
    for order in _due_lab_orders(ids):
        row = rows[order.prescription.patient_id]
        if lab_order_is_overdue(order, zone=scheduler.zone_for(row.zone), now=now):
            row.overdue_labs.append(order)
    for result in _latest_results(ids, "b12_pg_ml"):
        rows[result.patient_id].last_b12 = result
    for result in _latest_results(ids, "homocysteine_umol_l"):
        rows[result.patient_id].last_homocysteine = result
    return list(rows.values())


def _current_prescriptions(ids: list[int]) -> list[Prescription]:
    """Per patient, the prescription the pages follow: the newest active one, else the
    newest paused one, else the newest stopped one (as `schedules.selectors` does)."""
    rank = {Prescription.Status.ACTIVE: 0, Prescription.Status.PAUSED: 1}
    best: dict[int, Prescription] = {}
    prescriptions = Prescription.objects.filter(patient_id__in=ids).order_by(
        "patient_id", "-created_at", "-id"
    )
    for prescription in prescriptions:
        held = best.get(prescription.patient_id)
        if held is None or rank.get(prescription.status, 2) < rank.get(held.status, 2):
            best[prescription.patient_id] = prescription
    return list(best.values())


def _current_phases(prescription_ids: list[int]) -> dict[int, PrescriptionPhase]:
    """The phase of each prescription's next planned dose; for a prescription with none
    planned, the phase of its latest recorded dose. Each is an index scan of one row per
    prescription (PostgreSQL evaluates the second only when the first is empty)."""
    if not prescription_ids:
        return {}
    events = InjectionEvent.objects.filter(prescription_id=OuterRef("pk"))
    next_planned = events.filter(status=InjectionEvent.Status.PLANNED).order_by("due_at")
    latest_recorded = events.filter(
        status__in=[
            InjectionEvent.Status.TAKEN,
            InjectionEvent.Status.SKIPPED,
            InjectionEvent.Status.MISSED,
        ]
    ).order_by("-due_at")
    phase_ids = dict(
        Prescription.objects.filter(pk__in=prescription_ids)
        .annotate(
            phase_id=Coalesce(
                Subquery(next_planned.values("phase_id")[:1]),
                Subquery(latest_recorded.values("phase_id")[:1]),
            )
        )
        .filter(phase_id__isnull=False)
        .values_list("pk", "phase_id")
    )
    phases = PrescriptionPhase.objects.in_bulk(set(phase_ids.values()))
    return {pk: phases[phase_id] for pk, phase_id in phase_ids.items()}


def _open_flags(ids: list[int]) -> QuerySet[Flag]:
    return Flag.objects.filter(patient_id__in=ids, resolved_at__isnull=True).order_by(
        "urgency", "opened_at", "pk"
    )


def _due_lab_orders(ids: list[int]) -> QuerySet[LabOrder]:
    return (
        LabOrder.objects.filter(
            prescription__patient_id__in=ids,
            prescription__status__in=[Prescription.Status.ACTIVE, Prescription.Status.PAUSED],
            status=LabOrder.Status.DUE,
        )
        .select_related("prescription")
        .order_by("due_on", "pk")
    )


def _latest_results(ids: list[int], value_field: str) -> QuerySet[LabResult]:
    """Each patient's latest result with this value (a window function: PostgreSQL and
    SQLite alike)."""
    newest_first = Window(
        RowNumber(), partition_by=[F("patient_id")], order_by=[F("taken_on").desc(), F("id").desc()]
    )
    return (
        LabResult.objects.filter(patient_id__in=ids, **{f"{value_field}__isnull": False})
        .annotate(newest=newest_first)
        .filter(newest=1)
        .order_by("patient_id")
    )


# Filtering and sorting the rows -------------------------------------------------------------


class Overdue(StrEnum):
    DOSE = "dose"
    LAB = "lab"
    EITHER = "either"


def rows_filtered(rows: list[DashboardRow], *, phase: str = "", overdue: str = ""):
    if phase:
        rows = [row for row in rows if row.phase_kind == phase]
    if overdue == Overdue.DOSE:
        rows = [row for row in rows if row.dose_overdue]
    elif overdue == Overdue.LAB:
        rows = [row for row in rows if row.overdue_labs]
    elif overdue == Overdue.EITHER:
        rows = [row for row in rows if row.dose_overdue or row.overdue_labs]
    return rows


def _name_key(row: DashboardRow) -> tuple:
    user = row.patient.user
    return (user.last_name.lower(), user.first_name.lower(), user.username, row.patient.pk)


SORT_KEYS = {
    "name": _name_key,
    "clinic": lambda row: (row.patient.clinic.name.lower(), *_name_key(row)),
    "regimen": lambda row: row.prescription.regimen_name.lower() if row.prescription else None,
    "phase": lambda row: row.phase_kind_label or None,
    "next_dose": lambda row: row.adherence.next_due_at,
    "last_given": lambda row: row.adherence.last_given_at,
    "adherence_30": lambda row: row.adherence.rate_30,
    "adherence_90": lambda row: row.adherence.rate_90,
    "on_time": lambda row: row.adherence.on_time_rate_90,
    "missed_streak": lambda row: row.adherence.missed_streak,
    "flags": lambda row: (-row.top_flag.urgency, len(row.flags)) if row.flags else None,
    "labs_overdue": lambda row: len(row.overdue_labs),
    "b12": lambda row: row.last_b12.b12_pg_ml if row.last_b12 else None,
    "homocysteine": lambda row: (
        row.last_homocysteine.homocysteine_umol_l if row.last_homocysteine else None
    ),
    "attention": lambda row: row.attention,
}


def rows_sorted(rows: list[DashboardRow], sort: str) -> list[DashboardRow]:
    """Sorted by a column ("-" first: descending), ties by name; rows without a value
    (no dose due yet, no lab) come last whichever the direction."""
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), _name_key)
    by_name = sorted(rows, key=_name_key)
    present = [row for row in by_name if key(row) is not None]
    missing = [row for row in by_name if key(row) is None]
    return sorted(present, key=key, reverse=descending) + missing


# Export ------------------------------------------------------------------------------------

CSV_HEADER = [
    "Patient",
    "Clinic",
    "Regimen",
    "Phase",
    "Next dose (patient's time)",
    "Time zone",
    "Last dose given (patient's time)",
    "Given of due, 30 days",
    "Given of due, 90 days",
    "On time, 90 days",
    "Missed streak",
    "Open flags",
    "Most urgent flag",
    "Labs overdue",
    "Last B12 (pg/mL)",
    "B12 taken on",
    "B12 status",
    "Last homocysteine (umol/L)",
    "Homocysteine taken on",
    "Homocysteine status",
]


def _cell(value) -> str:
    """A spreadsheet never runs a cell as a formula: text starting with = + - @ is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(instant: datetime | None) -> str:
    return f"{instant:%Y-%m-%d %H:%M}" if instant else ""


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def _given_of_due(given: int, due: int) -> str:
    return f"{given}/{due}" if due else ""


def csv_write(rows: list[DashboardRow], out) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        a, b12, hcy = row.adherence, row.last_b12, row.last_homocysteine
        on_time = f"{a.on_time}/{a.given_90}" if a.given_90 else ""
        cells = [
            row.patient.user.display_name,
            row.patient.clinic.name,
            row.prescription.regimen_name if row.prescription else "",
            row.phase_kind_label,
            _when(row.next_due_local),
            row.zone,
            _when(row.last_given_local),
            _given_of_due(a.given_30, a.due_30),
            _given_of_due(a.given_90, a.due_90),
            on_time,
            a.missed_streak,
            len(row.flags),
            row.top_flag.get_cause_display() if row.top_flag else "",
            len(row.overdue_labs),
            b12.b12_pg_ml if b12 else "",
            _day(b12.taken_on) if b12 else "",
            b12.get_b12_status_display() if b12 else "",
            hcy.homocysteine_umol_l if hcy else "",
            _day(hcy.taken_on) if hcy else "",
            hcy.get_homocysteine_status_display() if hcy else "",
        ]
        writer.writerow([_cell(cell) for cell in cells])
