from datetime import time

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.models import Clinic, Patient
from schedules.services import prescriptions_follow_patient


@transaction.atomic
def patient_update_details(
    *, patient: Patient, time_zone: str, dose_time: time, actor, request=None
) -> Patient:
    """Change where and when a patient's doses fall due, with an audit row.

    Running prescriptions follow, rebuilding only their future doses (clinical rules 2.8).
    """
    before = {"time_zone": patient.time_zone, "dose_time": patient.dose_time}
    after = {"time_zone": time_zone, "dose_time": dose_time}
    changes = changes_between(before, after)
    if not changes:
        return patient
    patient.time_zone = time_zone
    patient.dose_time = dose_time
    patient.full_clean()
    patient.save(update_fields=["time_zone", "dose_time"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=patient,
        patient=patient,
        summary="Changed time zone or preferred dose time",
        changes=changes,
        request=request,
    )
    prescriptions_follow_patient(patient=patient, actor=actor, now=timezone.now())
    return patient


@transaction.atomic
def clinic_update_settings(*, clinic: Clinic, name: str, time_zone: str) -> Clinic:
    clinic.name = name
    clinic.time_zone = time_zone
    clinic.full_clean()
    clinic.save(update_fields=["name", "time_zone"])
    return clinic


def patient_record_viewed(*, patient: Patient, viewer, request=None) -> None:
    """Every staff view of a patient's record is audited."""
    audit_record(
        actor=viewer,
        action=AuditEvent.Action.VIEW,
        target=patient,
        patient=patient,
        summary="Viewed patient record",
        request=request,
    )


def visit_report_viewed(*, patient: Patient, viewer, first, last, request=None) -> None:
    """A visit report shows the patient's record over a period: audited as a view of it."""
    audit_record(
        actor=viewer,
        action=AuditEvent.Action.VIEW,
        target=patient,
        patient=patient,
        summary=f"Viewed visit report {first.isoformat()} to {last.isoformat()}",
        changes={"from": first.isoformat(), "to": last.isoformat()},
        request=request,
    )
