"""Prescribing and changing a prescription (clinical rules 2.7, 2.8 and section 4)."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from clinics.models import Patient
from flags.services import renal_cyano_flag
from schedules import bounds, safety
from schedules.models import EndKind, Prescription, PrescriptionPhase, Regimen
from schedules.scheduler import zone_for
from schedules.services.schedule import prescription_schedule_rebuild

COPIED_PHASE_FIELDS = [
    "position",
    "name",
    "amount",
    "amount_min",
    "amount_max",
    "unit",
    "route",
    "frequency_kind",
    "frequency_every",
    "frequency_every_min",
    "frequency_every_max",
    "weekdays",
    "end_kind",
    "end_value",
    "end_value_min",
    "end_value_max",
]


@dataclass(frozen=True)
class PhaseChoice:
    """A clinician's choice within the spec's range for one phase (e.g. every 2 months)."""

    amount: Decimal | None = None
    frequency_every: int | None = None
    end_value: int | None = None


@dataclass(frozen=True)
class Prescribed:
    prescription: Prescription
    warnings: list[str]


@transaction.atomic
def prescription_create(
    *,
    patient: Patient,
    regimen: Regimen,
    start_on: date,
    prescribed_by,
    now: datetime,
    dose_time: time | None = None,
    time_zone: str | None = None,
    choices: dict[int, PhaseChoice] | None = None,
    neurological_involvement: bool = False,
    renal_impairment: bool = False,
    renal_acknowledged: bool = False,
    folic_acid_before_b12: bool = False,
) -> Prescribed:
    """Prescribe a regimen: freeze a copy of its phases, apply the clinician's choices, check
    section 4, and materialise the schedule. Raises ValidationError, saving nothing."""
    _check_regimen_usable(regimen, patient)
    _check_choices_name_phases(regimen, choices or {})
    phases = [
        _frozen_phase(phase, (choices or {}).get(phase.position))
        for phase in regimen.phases.order_by("position")
    ]
    check = safety.prescribing_check(
        medication_slug=regimen.medication.slug,
        routes=[phase.route for phase in phases],
        renal_impairment=renal_impairment,
        renal_acknowledged=renal_acknowledged,
        folic_acid_before_b12=folic_acid_before_b12,
    )
    if check.errors:
        raise ValidationError(check.errors)
    rx = Prescription(
        patient=patient,
        regimen=regimen,
        regimen_slug=regimen.slug,
        regimen_name=regimen.name,
        medication=regimen.medication,
        start_on=start_on,
        dose_time=dose_time or patient.dose_time,
        time_zone=time_zone or patient.time_zone,
        neurological_involvement=neurological_involvement,
        renal_impairment=renal_impairment,
        folic_acid_before_b12=folic_acid_before_b12,
        prescribed_by=prescribed_by,
    )
    if renal_impairment and renal_acknowledged and regimen.medication.slug == safety.CYANOCOBALAMIN:
        rx.renal_acknowledged_by, rx.renal_acknowledged_at = prescribed_by, now
    rx.full_clean()
    rx.save()
    for phase in phases:
        phase.prescription = rx
        phase.full_clean()
    PrescriptionPhase.objects.bulk_create(phases)
    audit_record(
        actor=prescribed_by,
        action=AuditEvent.Action.CREATE,
        target=rx,
        patient=patient,
        summary=f"Prescribed {regimen.name}",
        changes={"start_on": start_on.isoformat(), "warnings": check.warnings},
    )
    prescription_schedule_rebuild(
        prescription=rx, now=now, actor=prescribed_by, reason=_("Prescribed")
    )
    # Flags hook: renal impairment on cyanocobalamin raises a routine flag (section 4).
    renal_cyano_flag(prescription=rx, now=now)
    return Prescribed(rx, check.warnings)


def _check_regimen_usable(regimen: Regimen, patient: Patient) -> None:
    if regimen.clinic_id not in (None, patient.clinic_id):
        raise ValidationError(_("This regimen belongs to another clinic."))
    if regimen.retired_at is not None:
        raise ValidationError(_("This regimen template is retired; choose another."))
    if not regimen.phases.exists():
        raise ValidationError(_("This regimen has no phases."))


def _check_choices_name_phases(regimen: Regimen, choices: dict[int, PhaseChoice]) -> None:
    """A choice for a phase the regimen lacks would otherwise be dropped without a word, and
    the patient given the default the clinician meant to change."""
    positions = sorted(regimen.phases.values_list("position", flat=True))
    unknown = sorted(set(choices) - set(positions))
    if unknown:
        raise ValidationError(
            _("This regimen has no phase %(position)s; its phases are %(positions)s.")
            % {"position": unknown[0], "positions": ", ".join(map(str, positions))}
        )


def _frozen_phase(phase, choice: PhaseChoice | None) -> PrescriptionPhase:
    frozen = PrescriptionPhase(**{name: getattr(phase, name) for name in COPIED_PHASE_FIELDS})
    if choice is None:
        return frozen
    for name, value in (
        ("amount", choice.amount),
        ("frequency_every", choice.frequency_every),
        ("end_value", choice.end_value),
    ):
        if value is not None:
            _check_within_range(frozen, name, value)
            setattr(frozen, name, value)
    return frozen


def _check_within_range(phase: PrescriptionPhase, name: str, value) -> None:
    """A clinician may choose within the spec's range, and only where it gives one."""
    low, high = getattr(phase, f"{name}_min"), getattr(phase, f"{name}_max")
    if value == getattr(phase, name):
        return
    if low is None or high is None:
        raise ValidationError(
            _("%(phase)s: %(field)s is fixed by the protocol at %(value)s.")
            % {"phase": phase.name, "field": name.replace("_", " "), "value": getattr(phase, name)}
        )
    if not low <= value <= high:
        raise ValidationError(
            _("%(phase)s: %(field)s must be between %(low)s and %(high)s; %(value)s is not.")
            % {
                "phase": phase.name,
                "field": name.replace("_", " "),
                "low": low,
                "high": high,
                "value": value,
            }
        )


@transaction.atomic
def prescription_phase_end(
    *, prescription: Prescription, position: int, ended_on: date, actor, now: datetime
) -> Prescription:
    """Record "no further improvement" on an open phase (2.7): its future doses are
    cancelled and the next phase is anchored on the last dose given."""
    phase = prescription.phases.select_for_update().filter(position=position).first()
    if phase is None:
        raise ValidationError(_("This prescription has no phase %(n)s.") % {"n": position})
    if phase.end_kind != EndKind.OPEN:
        raise ValidationError(_("Only an open phase ends on a clinician's word."))
    if phase.ended_on is not None:
        raise ValidationError(_("This phase already ended on %(day)s.") % {"day": phase.ended_on})
    today = now.astimezone(zone_for(prescription.time_zone)).date()
    bounds.phase_end_on(prescription.start_on, today).check(ended_on)
    phase.ended_on = ended_on
    phase.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=prescription,
        patient=prescription.patient,
        summary=f"No further improvement: {phase.name} ended",
        changes={"ended_on": ended_on.isoformat()},
    )
    prescription_schedule_rebuild(
        prescription=prescription,
        now=now,
        actor=actor,
        reason=_("No further improvement recorded on %(day)s") % {"day": ended_on},
    )
    return prescription
