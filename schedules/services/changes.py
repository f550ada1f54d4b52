"""Changing a running prescription (2.8): only future planned doses are rebuilt; given,
missed and skipped doses stay as they were; every change records who, when and why."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.validators import validate_time_zone
from schedules.models import Prescription
from schedules.services.prescriptions import PhaseChoice, _check_within_range
from schedules.services.schedule import RebuildResult, prescription_schedule_rebuild


@transaction.atomic
def prescription_update_timing(
    *,
    prescription: Prescription,
    dose_time: time,
    time_zone: str,
    actor,
    reason: str,
    now: datetime,
) -> RebuildResult | None:
    """Move every future dose to a new local time or time zone (a patient who moved)."""
    validate_time_zone(time_zone)
    before = {"dose_time": prescription.dose_time, "time_zone": prescription.time_zone}
    changes = changes_between(before, {"dose_time": dose_time, "time_zone": time_zone})
    if not changes:
        return None
    prescription.dose_time, prescription.time_zone = dose_time, time_zone
    prescription.save(update_fields=["dose_time", "time_zone"])
    return _rebuild(prescription, actor, reason, changes, now)


@transaction.atomic
def prescription_phase_change(
    *,
    prescription: Prescription,
    position: int,
    choice: PhaseChoice,
    actor,
    reason: str,
    now: datetime,
) -> RebuildResult | None:
    """Change a phase's dose, interval or length within the range the spec gives."""
    if not reason.strip():
        raise ValidationError(_("Say why the prescription changes."))
    phase = prescription.phases.select_for_update().get(position=position)
    fields = {
        "amount": choice.amount,
        "frequency_every": choice.frequency_every,
        "end_value": choice.end_value,
    }
    before = {name: getattr(phase, name) for name, value in fields.items() if value is not None}
    for name, value in fields.items():
        if value is not None:
            _check_within_range(phase, name, value)
            setattr(phase, name, value)
    after = {name: getattr(phase, name) for name in before}
    changes = changes_between(before, after)
    if not changes:
        return None
    phase.save(update_fields=list(changes))
    return _rebuild(
        prescription, actor, reason, {f"phase {position} {k}": v for k, v in changes.items()}, now
    )


def _rebuild(prescription, actor, reason, changes, now) -> RebuildResult:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=prescription,
        patient=prescription.patient,
        summary=f"Prescription changed: {reason}"[:255],
        changes=changes,
    )
    return prescription_schedule_rebuild(
        prescription=prescription, now=now, actor=actor, reason=reason
    )


def prescriptions_follow_patient(*, patient, actor, now: datetime) -> None:
    """A patient's new time zone or dose time applies to their running prescriptions."""
    running = patient.prescriptions.exclude(status=Prescription.Status.STOPPED)
    for prescription in running:
        prescription_update_timing(
            prescription=prescription,
            dose_time=patient.dose_time,
            time_zone=patient.time_zone,
            actor=actor,
            reason=_("Patient changed their time zone or dose time"),
            now=now,
        )
