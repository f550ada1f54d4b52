"""A nurse prescribing from the workspace: the preview before, and the one running prescription.

`prescription_preview` checks everything `prescription_start` will check (the first dose
within a year of today, the choices within the spec's ranges, section 4) and dates the
schedule with the same code as the `schedule_preview` command and the staff regimen page
(`schedules.preview.regimen_preview`), saving nothing. `prescription_start` is the nurse's
door to `prescription_create`, which itself takes any start (demo data, benchmarks and tests
prescribe histories of years).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinics.models import Patient
from clinics.validators import validate_time_zone
from schedules import bounds, safety
from schedules.models import EndKind, Prescription, PrescriptionPhase, Regimen
from schedules.preview import regimen_preview
from schedules.scheduler import zone_for
from schedules.services.prescriptions import (
    PhaseChoice,
    Prescribed,
    _check_choices_name_phases,
    _check_regimen_usable,
    _frozen_phase,
    prescription_create,
)

PREVIEW_DAYS = 400
# A second confirm of the same prescription this soon is a double tap or a resent form.
REPEAT_WITHIN = timedelta(minutes=10)
RUNNING = (Prescription.Status.ACTIVE, Prescription.Status.PAUSED)


@dataclass(frozen=True)
class PhaseStart:
    """A phase of the previewed plan and its first dates; none when an open phase before it
    has to be ended first (2.7)."""

    phase: PrescriptionPhase
    first_dates: list[datetime]
    after_open: PrescriptionPhase | None


@dataclass(frozen=True)
class Preview:
    """The dated plan (`plan` is the `schedule_preview` command's JSON), each phase's first
    dates, the first lab checks (section 3) and the section 4 warnings."""

    phases: list[PhaseStart]
    plan: dict
    warnings: list[str]

    @property
    def lab_dates(self) -> list[date]:
        return [date.fromisoformat(lab["due"]) for lab in self.plan["labs"]]


def prescription_preview(
    *,
    patient: Patient,
    regimen: Regimen,
    start_on: date,
    dose_time: time,
    time_zone: str,
    now: datetime,
    choices: dict[int, PhaseChoice] | None = None,
    renal_impairment: bool = False,
    renal_acknowledged: bool = False,
    folic_acid_before_b12: bool = False,
) -> Preview:
    """What `prescription_start` would plan, or the ValidationError it would raise."""
    validate_time_zone(time_zone)
    _check_start(start_on, time_zone=time_zone, now=now)
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
    plan = regimen_preview(
        regimen,
        start_on=start_on,
        until=start_on + timedelta(days=PREVIEW_DAYS),
        at=dose_time,
        zone_name=time_zone,
        phases=phases,
    )
    return Preview(_phase_starts(phases, plan), plan, check.warnings)


def _phase_starts(phases: list[PrescriptionPhase], plan: dict) -> list[PhaseStart]:
    starts, open_before = [], None
    for phase in phases:
        dates = [
            datetime.fromisoformat(dose["due"])
            for dose in plan["doses"]
            if dose["phase"] == phase.position
        ]
        starts.append(PhaseStart(phase, dates[:3], None if dates else open_before))
        if phase.end_kind == EndKind.OPEN:
            open_before = phase
    return starts


@transaction.atomic
def prescription_start(*, patient: Patient, **options) -> Prescribed:
    """Prescribe for a patient who has no running (active or paused) prescription, with a
    first dose within a year of today (`bounds.prescription_start`).

    Conservative choice: the spec does not say what a second running prescription means, and
    two would put two plans of doses in front of the patient; the current one is stopped
    first (with its reason, section 4). The patient row is locked so that two nurses
    prescribing at once cannot both pass the check. The same clinician confirming the same
    regimen and start again within 10 minutes (a double tap, a resent form) gets the
    prescription already made.
    """
    time_zone = options.get("time_zone") or patient.time_zone
    validate_time_zone(time_zone)
    _check_start(options["start_on"], time_zone=time_zone, now=options["now"])
    Patient.objects.select_for_update().get(pk=patient.pk)
    running = patient.prescriptions.filter(status__in=RUNNING).first()
    if running is not None and _is_repeat(running, options):
        return Prescribed(running, [])
    if running is not None:
        raise ValidationError(
            _(
                "%(patient)s already has a running prescription (%(regimen)s, %(status)s). "
                "Stop it first, with the reason, then prescribe the new one."
            )
            % {
                "patient": patient,
                "regimen": running.regimen_name,
                "status": running.get_status_display(),
            }
        )
    return prescription_create(patient=patient, **options)


def _check_start(start_on: date, *, time_zone: str, now: datetime) -> None:
    """The first dose within a year of today in the prescription's zone (`bounds`)."""
    bounds.prescription_start(now.astimezone(zone_for(time_zone)).date()).check(start_on)


def _is_repeat(running: Prescription, options: dict) -> bool:
    return (
        running.status == Prescription.Status.ACTIVE
        and running.prescribed_by_id == getattr(options.get("prescribed_by"), "pk", None)
        and running.regimen_id == getattr(options.get("regimen"), "pk", None)
        and running.start_on == options.get("start_on")
        and options["now"] - running.created_at <= REPEAT_WITHIN
    )
