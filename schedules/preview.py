"""A regimen's schedule as the `schedule_preview` command prints it and staff see it.

The JSON shape is a contract other tools read: see the README. `phases_preview` is the one
place it is computed: for a saved regimen (the command, the detail page) and for the unsaved
phases of the template editor alike.
"""

from collections.abc import Sequence
from datetime import UTC, date, time
from decimal import Decimal

from schedules import bounds, scheduler
from schedules.models import PhaseFields, Regimen
from schedules.specs import phase_spec


def regimen_preview(
    regimen: Regimen,
    *,
    start_on: date,
    until: date,
    at: time,
    zone_name: str,
    phases: Sequence[PhaseFields] | None = None,
) -> dict:
    """Every dose and lab check on or before `until`, open and lifelong phases included.

    `phases` replaces the regimen's own with a clinician's choices applied (the nurse's
    preview before prescribing); by default the regimen's phases as they are."""
    return phases_preview(
        list(regimen.phases.order_by("position")) if phases is None else list(phases),
        protocol=regimen.slug,
        medication_slug=regimen.medication.slug,
        start_on=start_on,
        until=until,
        at=at,
        zone_name=zone_name,
    )


def phases_preview(
    phases: Sequence[PhaseFields],
    *,
    protocol: str,
    medication_slug: str,
    start_on: date,
    until: date,
    at: time,
    zone_name: str,
) -> dict:
    """The same preview for phases in order, saved or not (their `position` is not read).
    Dates out of `bounds` (this century, three years at most) raise a ValidationError."""
    bounds.preview_start().check(start_on)
    bounds.preview_until(start_on).check(until)
    zone = scheduler.zone_for(zone_name)
    plan = scheduler.plan_doses(
        [phase_spec(phase) for phase in phases], start_on=start_on, until=until, at=at, zone=zone
    )
    doses = [
        {
            "phase": dose.phase + 1,
            "due": dose.due_at.astimezone(zone).isoformat(),
            "due_utc": dose.due_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "amount": _number(phases[dose.phase].amount),
            "unit": phases[dose.phase].unit,
            "route": phases[dose.phase].route,
            "medication": medication_slug,
        }
        for dose in plan
    ]
    labs = [
        {"due": check.due_on.isoformat(), "tests": list(check.tests)}
        for check in scheduler.plan_lab_checks(start_on, until=until)
    ]
    return {"protocol": protocol, "timezone": zone_name, "doses": doses, "labs": labs}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
