"""A patient's own details: where and when their doses fall due."""

from datetime import time

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.models import Patient
from clinics.signals import patient_timing_changed


@transaction.atomic
def patient_update_details(
    *, patient: Patient, time_zone: str, dose_time: time, actor, request=None
) -> Patient:
    """Change where and when a patient's doses fall due, with an audit row.

    Running prescriptions follow, rebuilding only their future doses (clinical rules 2.8):
    `clinics.signals.patient_timing_changed`, sent in this transaction, has the schedules app
    do it, as the clinics app sits below the schedules and never imports them.
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
    patient_timing_changed.send(sender=Patient, patient=patient, actor=actor, now=timezone.now())
    return patient
