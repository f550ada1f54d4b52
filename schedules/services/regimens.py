"""Regimen templates: the built-in library is read-only; clinics work on their own copies.

A clinic admin copies a protocol, edits its phases, retires and restores it. Prescriptions
hold a frozen copy of the phases (PrescriptionPhase), so nothing here ever reaches a
running prescription.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.models import Clinic
from schedules import safety, scheduler
from schedules.models import EndKind, FrequencyKind, Medication, Phase, Regimen


@transaction.atomic
def regimen_copy(*, regimen: Regimen, clinic: Clinic, name: str = "", actor=None) -> Regimen:
    """An editable copy of a library regimen (or of one of the clinic's own) for a clinic.

    Prescriptions keep their own frozen copy, so editing this template later changes none.
    """
    if regimen.clinic_id not in (None, clinic.pk):
        raise ValidationError(_("This regimen belongs to another clinic."))
    copy = Regimen.objects.create(
        slug=_free_slug(clinic, regimen.slug),
        name=name or _("%(name)s (copy)") % {"name": regimen.name},
        clinic=clinic,
        copied_from=regimen,
        medication=regimen.medication,
        description=regimen.description,
        sources=regimen.sources,
    )
    Phase.objects.bulk_create(
        Phase(regimen=copy, **{field: getattr(phase, field) for field in _PHASE_FIELDS})
        for phase in regimen.phases.all()
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=copy,
        summary=f"Copied regimen {regimen.name} as {copy.name}",
        changes={"copied_from": regimen.slug, "phases": _describe(copy.phases.all())},
    )
    return copy


def regimen_ensure_editable(regimen: Regimen) -> None:
    """The built-in library is read-only (clinical-rules.md section 1)."""
    if regimen.is_library:
        raise ValidationError(
            _("Built-in library regimens cannot be changed; make a copy for your clinic.")
        )


@dataclass(frozen=True)
class PhaseProblem:
    """What is wrong with one phase: `index` is 0-based in the order given, `field` the
    phase field it concerns (None: the phase as a whole)."""

    index: int
    field: str | None
    message: str


def regimen_phase_problems(
    *, medication: Medication | None, phases: Sequence[Phase]
) -> list[PhaseProblem]:
    """Every reason these phases, in this order, cannot make a regimen of `medication`.

    The template editor shows them beside each phase; `regimen_update` refuses them. The
    rules are the scheduler's own (what a frequency and an end may be), section 4's routes,
    and the order of phases: a lifelong phase never stops by itself (section 4), so any phase
    after it would never start. A field left empty (None) skips the rules that need it, so
    that the editor can show these beside a phase that still lacks a field.
    """
    problems = [problem for index, phase in enumerate(phases) for problem in _one(index, phase)]
    for index, phase in enumerate(phases):
        if medication is not None and phase.route:
            problems += _route_problems(index, phase, medication)
        if phase.end_kind == EndKind.LIFELONG and index < len(phases) - 1:
            problems.append(
                PhaseProblem(
                    index,
                    "end_kind",
                    _(
                        "A lifelong phase never stops by itself, so it must be the last phase: "
                        "the phases after it would never start. Move it last or choose "
                        "another end."
                    ),
                )
            )
    return problems


def _route_problems(index: int, phase: Phase, medication: Medication) -> list[PhaseProblem]:
    """Section 4: IV cyanocobalamin is refused (and IV for anything, the prescribing check's
    conservative choice)."""
    check = safety.prescribing_check(
        medication_slug=medication.slug,
        routes=[phase.route],
        renal_impairment=False,
        renal_acknowledged=False,
        folic_acid_before_b12=False,
    )
    return [PhaseProblem(index, "route", error) for error in check.errors]


def _one(index: int, phase: Phase) -> list[PhaseProblem]:
    """One phase on its own: what the scheduler accepts, and ranges that hold the default."""
    problems = []
    if phase.frequency_kind and phase.frequency_every is not None:
        try:
            scheduler.Frequency(
                scheduler.FrequencyKind(phase.frequency_kind),
                phase.frequency_every,
                tuple(phase.weekdays or ()),
            )
        except ValueError:
            problems.append(_frequency_problem(index, phase))
    if not phase.end_kind:
        return problems + _range_problems(index, phase)
    bounded = phase.end_kind in (EndKind.COUNT, EndKind.DAYS)
    if bounded and not phase.end_value:
        problems.append(
            PhaseProblem(index, "end_value", _("Give the number of doses or days (1 or more)."))
        )
    if not bounded and phase.end_value is not None:
        problems.append(
            PhaseProblem(
                index, "end_value", _("An open or lifelong phase has no count; leave it empty.")
            )
        )
    if not bounded and (phase.end_value_min is not None or phase.end_value_max is not None):
        problems.append(
            PhaseProblem(index, "end_value_min", _("An open or lifelong phase has no count range."))
        )
    if (
        phase.frequency_kind == FrequencyKind.WEEKDAYS
        and phase.weekdays
        and (phase.frequency_every_min is not None or phase.frequency_every_max is not None)
    ):
        problems.append(
            PhaseProblem(
                index,
                "frequency_every_min",
                _(
                    "Chosen weekdays fix the number of doses a week: leave the range empty, "
                    "or clear the weekdays to use the default pattern."
                ),
            )
        )
    return problems + _range_problems(index, phase)


def _range_problems(index: int, phase: Phase) -> list[PhaseProblem]:
    return [
        PhaseProblem(index, f"{name}_min", message)
        for name, label in RANGED_FIELDS.items()
        if (message := _range_message(phase, name, label))
    ]


RANGED_FIELDS = {
    "amount": _("dose"),
    "frequency_every": _("interval"),
    "end_value": _("number of doses or days"),
}


def _range_message(phase: Phase, name: str, label: str) -> str:
    """A range a clinician may choose within (section 1): both ends or neither, around the
    default. Prescribing reads a range only when both ends are given."""
    low, high, value = (
        getattr(phase, f"{name}_min"),
        getattr(phase, f"{name}_max"),
        getattr(phase, name),
    )
    if low is None and high is None:
        return ""
    if low is None or high is None:
        return _("Give both the lowest and the highest %(what)s, or neither.") % {"what": label}
    if value is not None and not low <= value <= high:
        return _("The %(what)s range %(low)s-%(high)s must include the default %(value)s.") % {
            "what": label,
            "low": low,
            "high": high,
            "value": value,
        }
    return ""


def _frequency_problem(index: int, phase: Phase) -> PhaseProblem:
    """The scheduler refused the frequency (2.2): say which field and why, in words."""
    weekly = phase.frequency_kind == FrequencyKind.WEEKDAYS
    if phase.frequency_every < 1:
        return PhaseProblem(index, "frequency_every", _("The interval must be 1 or more."))
    if weekly and phase.frequency_every > 7:
        return PhaseProblem(
            index, "frequency_every", _("A week has 7 days: choose at most 7 doses a week.")
        )
    if weekly:
        message = _(
            "Tick exactly %(n)s weekdays (one per dose of the week), or none for the default "
            "pattern."
        ) % {"n": phase.frequency_every}
        return PhaseProblem(index, "weekdays", message)
    return PhaseProblem(
        index, "weekdays", _("Weekdays apply only to “N times a week”; clear them.")
    )


@transaction.atomic
def regimen_update(
    *,
    regimen: Regimen,
    actor,
    now: datetime,
    name: str,
    medication: Medication,
    description: str,
    phases: Sequence[Phase],
) -> Regimen:
    """Replace a clinic template's details and phases, in the order given, all or nothing.

    Running prescriptions keep their frozen copy of the phases: this changes none of them.
    """
    regimen = Regimen.objects.select_for_update().get(pk=regimen.pk)
    regimen_ensure_editable(regimen)
    if regimen.retired_at is not None:
        raise ValidationError(_("This template is retired; restore it before changing it."))
    if not phases:
        raise ValidationError(_("A regimen needs at least one phase."))
    problems = regimen_phase_problems(medication=medication, phases=phases)
    if problems:
        raise ValidationError(
            [
                _("Phase %(n)s: %(message)s") % {"n": problem.index + 1, "message": problem.message}
                for problem in problems
            ]
        )
    before = {**_details(regimen), "phases": _describe(regimen.phases.all())}
    regimen.name, regimen.medication, regimen.description = name, medication, description
    regimen.full_clean()
    regimen.save(update_fields=["name", "medication", "description"])
    fresh = [
        Phase(regimen=regimen, position=position, **_fields_of(phase, exclude={"position"}))
        for position, phase in enumerate(phases, start=1)
    ]
    for phase in fresh:
        phase.full_clean(exclude=["regimen"])
    # No other table points at a template's phases, so replacing them is safe and keeps
    # the (regimen, position) uniqueness simple while the order changes.
    regimen.phases.all().delete()
    Phase.objects.bulk_create(fresh)
    after = {**_details(regimen), "phases": _describe(fresh)}
    changes = changes_between(
        {k: v for k, v in before.items() if k != "phases"},
        {k: v for k, v in after.items() if k != "phases"},
    )
    if before["phases"] != after["phases"]:
        changes["phases"] = [before["phases"], after["phases"]]
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=regimen,
        summary=f"Changed regimen template {regimen.name}",
        changes=changes,
    )
    return regimen


@transaction.atomic
def regimen_retire(*, regimen: Regimen, actor, now: datetime) -> Regimen:
    """Hide a clinic template from prescribing. Prescriptions already made from it go on
    unchanged with their frozen copy."""
    regimen = Regimen.objects.select_for_update().get(pk=regimen.pk)
    regimen_ensure_editable(regimen)
    if regimen.retired_at is not None:
        raise ValidationError(_("This template is already retired."))
    regimen.retired_at = now
    regimen.save(update_fields=["retired_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=regimen,
        summary=f"Retired regimen template {regimen.name}",
        changes={"retired_at": [None, now.isoformat()]},
    )
    return regimen


@transaction.atomic
def regimen_restore(*, regimen: Regimen, actor, now: datetime) -> Regimen:
    """Offer a retired template for prescribing again."""
    regimen = Regimen.objects.select_for_update().get(pk=regimen.pk)
    regimen_ensure_editable(regimen)
    if regimen.retired_at is None:
        raise ValidationError(_("This template is not retired."))
    retired_at, regimen.retired_at = regimen.retired_at, None
    regimen.save(update_fields=["retired_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=regimen,
        summary=f"Restored regimen template {regimen.name}",
        changes={"retired_at": [retired_at.isoformat(), None], "restored_at": now.isoformat()},
    )
    return regimen


def phase_text(phase: Phase) -> str:
    """One phase in words, as the audit log and the editor's summary show it."""
    text = (
        f"{phase.name}: {phase.dose_text} {phase.route}, {phase.frequency_text}, {phase.end_text}"
    )
    if phase.weekdays:
        text += " (weekdays " + ",".join(str(day) for day in phase.weekdays) + ")"
    return text


def _describe(phases) -> list[str]:
    return [f"{n}. {phase_text(phase)}" for n, phase in enumerate(phases, start=1)]


def _details(regimen: Regimen) -> dict:
    return {
        "name": regimen.name,
        "medication": regimen.medication.slug,
        "description": regimen.description,
    }


def _fields_of(phase: Phase, *, exclude: set[str] = frozenset()) -> dict:
    return {field: getattr(phase, field) for field in _PHASE_FIELDS if field not in exclude}


def _free_slug(clinic: Clinic, base: str) -> str:
    taken = set(Regimen.objects.filter(clinic=clinic).values_list("slug", flat=True))
    slug, n = slugify(base)[:45], 1
    candidate = slug
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


_PHASE_FIELDS = [
    field.name for field in Phase._meta.concrete_fields if field.name not in {"id", "regimen"}
]
