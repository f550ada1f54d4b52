"""The nurse's flag queue: which flags a nurse may see (section 5), who they may hand one to,
and each flag's context put in words for a person."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from clinics.models import Clinic
from flags.models import Flag, SymptomReport
from flags.selectors import symptom_reports_of
from schedules import scheduler
from schedules.models import InjectionEvent, LabOrder, LabResult, Prescription, PrescriptionPhase
from schedules.selectors import history_events

RECENT_DOSES = 10
RECENT_LABS = 3
RECENT_SYMPTOM_REPORTS = 5


class Who:
    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"


def flags_visible_to(user) -> QuerySet[Flag]:
    """Every flag, open or resolved, of the patients of the nurse's clinics; none for anyone
    else. Another clinic's flag is simply not found (404)."""
    if not user.is_authenticated or not user.is_nurse:
        return Flag.objects.none()
    return Flag.objects.filter(
        patient__clinic__in=Clinic.objects.filter(memberships__user=user)
    ).select_related(
        "patient__user", "patient__clinic", "prescription", "assigned_to", "resolved_by"
    )


def flag_queue(user, *, who: str = Who.ALL, cause: str = "", patient_id: int | None = None):
    """Open flags, most urgent first, then the oldest first."""
    flags = flags_visible_to(user).filter(resolved_at__isnull=True)
    if who == Who.MINE:
        flags = flags.filter(assigned_to=user)
    elif who == Who.UNASSIGNED:
        flags = flags.filter(assigned_to__isnull=True)
    if cause:
        flags = flags.filter(cause=cause)
    if patient_id is not None:
        flags = flags.filter(patient_id=patient_id)
    return flags.order_by("urgency", "opened_at", "pk")


def open_flag_count(user) -> int:
    return flags_visible_to(user).filter(resolved_at__isnull=True).count()


def colleagues_for(flag: Flag) -> QuerySet[User]:
    """The active nurses of the flag's patient's clinic: who the flag may be handed to."""
    return User.objects.filter(
        role=User.Role.NURSE, is_active=True, memberships__clinic_id=flag.patient.clinic_id
    ).order_by("last_name", "first_name", "username")


@dataclass(frozen=True)
class Detail:
    label: str
    items: list[str]


@dataclass(frozen=True)
class FlagContext:
    details: list[Detail]
    prescription: Prescription | None
    recent_doses: list[InjectionEvent]
    latest_labs: list[LabResult]
    symptom_reports: list[SymptomReport]
    history: list[Flag]


def flag_context(flag: Flag) -> FlagContext:
    """What a nurse needs beside the flag. Everything is read through the flag's patient, so
    ids in its details that belong to anyone else find nothing."""
    patient = flag.patient
    prescription = flag.prescription or _current_prescription(patient)
    doses = list(history_events([prescription.pk])[:RECENT_DOSES]) if prescription else []
    history = (
        Flag.objects.filter(patient=patient, cause=flag.cause, resolved_at__isnull=False)
        .exclude(pk=flag.pk)
        .select_related("resolved_by")
        .order_by("-resolved_at")[:10]
    )
    return FlagContext(
        details=flag_details_in_words(flag),
        prescription=prescription,
        recent_doses=doses,
        latest_labs=list(LabResult.objects.filter(patient=patient)[:RECENT_LABS]),
        symptom_reports=list(symptom_reports_of(patient)[:RECENT_SYMPTOM_REPORTS]),
        history=list(history),
    )


def _current_prescription(patient) -> Prescription | None:
    prescriptions = Prescription.objects.filter(patient=patient).order_by("-created_at", "-id")
    for status in (Prescription.Status.ACTIVE, Prescription.Status.PAUSED):
        found = prescriptions.filter(status=status).first()
        if found is not None:
            return found
    return prescriptions.first()


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def _when(instant: datetime, zone: str) -> str:
    local = instant.astimezone(scheduler.zone_for(zone))
    return f"{_day(local.date())}, {local:%H:%M %Z}"


def flag_details_in_words(flag: Flag) -> list[Detail]:
    """The flag's details (ids and codes, as the code that raised it stored them) as a
    person reads them: the doses, lab checks, results and reports they stand for."""
    patient, details = flag.patient, dict(flag.details or {})
    words: list[Detail] = []
    readers = {
        "events": lambda ids: _doses(patient, ids),
        "lab_orders": lambda ids: _lab_orders(patient, ids),
        "lab_result": lambda pk: _lab_result(patient, pk),
        "symptom_report": lambda pk: _symptom_report(patient, pk),
        "symptoms": _symptoms,
        "prescription": lambda pk: _prescription(patient, pk),
        "phase": lambda pk: _phase(patient, pk),
        "overdue_days": lambda days: [f"{days} days"],
        "review_on": lambda text: [_day(date.fromisoformat(text))],
        "taken_on": lambda text: [_day(date.fromisoformat(text))],
    }
    labels = {
        "events": "Doses",
        "lab_orders": "Lab checks",
        "lab_result": "Lab result",
        "symptom_report": "Symptom report",
        "symptoms": "Symptoms",
        "prescription": "Prescription",
        "phase": "Phase",
        "overdue_days": "Overdue after",
        "review_on": "Review on",
        "taken_on": "Sample taken on",
    }
    for key, value in details.items():
        reader = readers.get(key)
        items = reader(value) if reader else [_plain(value)]
        if items:
            words.append(Detail(labels.get(key, key.replace("_", " ").capitalize()), items))
    return words


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _doses(patient, ids) -> list[str]:
    events = InjectionEvent.objects.filter(prescription__patient=patient, pk__in=ids).order_by(
        "due_at"
    )
    return [
        f"{_when(event.due_at, patient.time_zone)}: {event.get_status_display()}"
        for event in events
    ]


def _lab_orders(patient, ids) -> list[str]:
    orders = LabOrder.objects.filter(prescription__patient=patient, pk__in=ids).order_by("due_on")
    return [f"Due {_day(order.due_on)}: {order.get_status_display()}" for order in orders]


def _lab_result(patient, pk) -> list[str]:
    result = LabResult.objects.filter(patient=patient, pk=pk).first()
    if result is None:
        return []
    parts = [f"Taken {_day(result.taken_on)}"]
    if result.b12_pg_ml is not None:
        parts.append(
            f"B12 {result.b12_pg_ml.normalize():f} pg/mL ({result.get_b12_status_display()})"
        )
    if result.homocysteine_umol_l is not None:
        value = result.homocysteine_umol_l.normalize()
        parts.append(f"homocysteine {value:f} umol/L ({result.get_homocysteine_status_display()})")
    if result.platelets_10e9_l is not None:
        parts.append(f"platelets {result.platelets_10e9_l.normalize():f} x10^9/L")
    return ["; ".join(parts)]


def _symptom_report(patient, pk) -> list[str]:
    report = SymptomReport.objects.filter(patient=patient, pk=pk).first()
    if report is None:
        return []
    text = f"Reported {_when(report.reported_at, patient.time_zone)}"
    return [f"{text}: {report.notes}" if report.notes else text]


def _symptoms(codes) -> list[str]:
    known = SymptomReport.Symptom.values
    return [str(SymptomReport.Symptom(code).label) if code in known else code for code in codes]


def _prescription(patient, pk) -> list[str]:
    found = Prescription.objects.filter(patient=patient, pk=pk).first()
    return [f"{found.regimen_name} ({found.get_status_display()})"] if found else []


def _phase(patient, pk) -> list[str]:
    found = PrescriptionPhase.objects.filter(prescription__patient=patient, pk=pk).first()
    return [f"{found.name}: {found.dose_text}, {found.frequency_text}"] if found else []
